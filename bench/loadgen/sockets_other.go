//go:build !linux

package loadgen

import "net"

// TuneBuffers asks for bytes of kernel receive and send buffer; it returns
// the request, as there is no portable way to read back what was granted.
func TuneBuffers(c *net.UDPConn, bytes int) (int, error) {
	if err := c.SetReadBuffer(bytes); err != nil {
		return 0, err
	}
	return bytes, c.SetWriteBuffer(bytes)
}
