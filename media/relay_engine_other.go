//go:build !linux

package media

import (
	"errors"
	"log/slog"
)

// packetEngine exists on Linux only (epoll, recvmmsg); elsewhere every
// relay socket has a goroutine of its own.
type packetEngine struct{}

func newPacketEngine(*slog.Logger) (*packetEngine, error) {
	return nil, errors.New("media: no packet engine on this system")
}

func (*packetEngine) start(*relayStream) bool { return false }
func (*packetEngine) close()                  {}

type engineStream struct{}

func (*engineStream) active() bool      { return false }
func (*engineStream) stop(*relayStream) {}
