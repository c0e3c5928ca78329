package configs

import (
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/natsbc/natsbc/ingress"
	"github.com/natsbc/natsbc/media"
	"github.com/natsbc/natsbc/sbc"
	"gopkg.in/yaml.v3"
)

// maxFileSize bounds what Load reads: a config is a few KiB; anything
// near this is a mistake (a log file, a core dump) better refused early.
const maxFileSize = 1 << 20

//go:embed default.yaml
var defaultYAML []byte

// DefaultName is how the embedded default config is named in errors.
const DefaultName = "built-in default config"

// Default returns the embedded default configuration (configs/default.yaml):
// listen on 0.0.0.0:5060 UDP+TCP in front of a PBX at 127.0.0.1:5080.
func Default() *Config {
	c, err := Parse(DefaultName, defaultYAML)
	if err != nil {
		panic("configs: embedded default.yaml is invalid: " + err.Error())
	}
	return c
}

// Load reads and parses the configuration file at path.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{File: path, Msg: "cannot read config: " + unwrapPath(err)}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, &Error{File: path, Msg: "cannot read config: " + unwrapPath(err)}
	}
	if len(data) > maxFileSize {
		return nil, &Error{File: path, Msg: fmt.Sprintf("config is larger than %d bytes", maxFileSize)}
	}
	return Parse(path, data)
}

// unwrapPath drops the "open PATH:" the os package adds: the path is
// already at the start of our message.
func unwrapPath(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// Parse decodes and validates a configuration. name is the file name used
// in errors. The result has the defaults of every key the data leaves out.
// All problems are returned at once, joined, each an *Error.
func Parse(name string, data []byte) (c *Config, err error) {
	defer func() {
		// yaml.v3 has panicked on hostile input before; a config problem
		// must be an answer, never a crash.
		if r := recover(); r != nil {
			c, err = nil, &Error{File: name, Msg: fmt.Sprintf("cannot parse YAML: %v", r)}
		}
	}()
	root, err := parseYAML(name, data)
	if err != nil {
		return nil, err
	}
	c = baseConfig(name)
	d := &decoder{file: name, pos: c.pos}
	if root == nil {
		d.pos[""] = position{line: 1, col: 1}
	} else {
		d.decodeRoot(root, c)
	}
	d.errs = append(d.errs, c.problems(len(d.errs) == 0).without(d.errs)...)
	if err := d.errs.err(); err != nil {
		return nil, err
	}
	return c, nil
}

// DefaultSTUNRefresh is how often natsbc re-learns a stun: advertised
// address when nat.stun_refresh is left out: often enough to follow a
// cloud instance's re-mapped public IP within minutes, rare enough for
// public STUN servers' rate limits.
const DefaultSTUNRefresh = 5 * time.Minute

// DefaultCaptureID is the HEP capture agent id natsbc reports when
// hep.capture_id is left out.
const DefaultCaptureID = 2001

// DefaultStateFile is where natsbc keeps its registrations when
// registrations.state_file is left out.
const DefaultStateFile = "/var/lib/natsbc/state.db"

// baseConfig holds the defaults of the keys a file may leave out: those of
// the packages' DefaultConfig.
func baseConfig(name string) *Config {
	s := sbc.DefaultConfig()
	m := media.DefaultConfig()
	return &Config{
		Log: LogConfig{Level: "info", Format: "text"},
		SIP: SIPConfig{T1: s.T1, T2: s.T2, T4: s.T4, TimerC: s.TimerC, MaxMessageSize: s.MaxMessageSize, UserAgent: s.UserAgent,
			SessionExpires: s.SessionExpires, MinSE: s.MinSE, Rel100: !s.Disable100rel},
		Shutdown: ShutdownConfig{DrainTimeout: s.DrainTimeout},
		Limits:   LimitsConfig{MaxCalls: s.MaxCalls, MaxTransactions: s.MaxTransactions, MaxRelayPairsPerSource: s.MaxRelayPairsPerSource},
		Registrations: RegistrationsConfig{NATExpires: s.Registrations.NATExpires, TokenSecret: hex.EncodeToString(s.Registrations.TokenSecret),
			StateFile: DefaultStateFile, MaxPerSource: s.Registrations.MaxPerSource,
			MaxInFlightPerSource: s.Registrations.MaxInFlightPerSource},
		Keepalive: KeepaliveConfig{Method: s.Keepalive.Method, Interval: s.Keepalive.Interval, MaxMissed: s.Keepalive.MaxMissed},
		NAT:       NATConfig{STUNRefresh: DefaultSTUNRefresh},
		Relay: MediaConfig{
			Anchor:      true,
			PortMin:     m.PortMin,
			PortMax:     m.PortMax,
			ListenIP:    m.ListenIP,
			Drain:       m.Drain,
			Timeout:     m.Timeout,
			HoldTimeout: m.HoldTimeout,
			LatchWindow: m.LatchWindow,
			MaxStreams:  m.MaxStreams,
		},
		Security: SecurityConfig{Rate: 20, Burst: 40, BanAfter: 200, BanTime: time.Hour,
			Scanners: slices.Clone(ingress.DefaultScanners), MaxSources: 65536,
			AuthFailures: 10, AuthWindow: 10 * time.Minute, RealSourceHeader: s.RealSourceHeader, UnprovenCredit: 16384,
			TCPMaxConnections: 4096, TCPMaxPerSource: 32, TCPIdleTimeout: 10 * time.Minute, TCPHeaderTimeout: 10 * time.Second},
		HEP:  HEPConfig{CaptureID: DefaultCaptureID},
		file: name,
		pos:  make(map[string]position),
	}
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseYAML returns the top node of the only document in data, nil for an
// empty document.
func parseYAML(name string, data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, syntaxError(name, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &Error{File: name, Line: extra.Line, Msg: "only one YAML document is allowed (found a second '---')"}
	} else if !errors.Is(err, io.EOF) {
		return nil, syntaxError(name, err)
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

func syntaxError(name string, err error) error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{File: name, Line: line, Msg: "YAML syntax: " + m[2]}
	}
	return &Error{File: name, Msg: "YAML syntax: " + strings.TrimPrefix(msg, "yaml: ")}
}
