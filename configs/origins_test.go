package configs

import (
	"slices"
	"strings"
	"testing"
)

// allowed_origins reaches the ws/wss socket's spec; unset, it is nil (any
// origin).
func TestAllowedOriginsDecoded(t *testing.T) {
	c, err := Parse("t.yaml", []byte(`listen:
  - name: web
    address: 127.0.0.1:8080
    transport: ws
    allowed_origins: [https://app.example.com, "http://localhost:3000"]
  - name: open
    address: 127.0.0.1:8081
    transport: ws
`))
	if err != nil {
		t.Fatal(err)
	}
	specs := c.Listen()
	want := []string{"https://app.example.com", "http://localhost:3000"}
	if !slices.Equal(specs[0].AllowedOrigins, want) {
		t.Errorf("allowed origins = %q; want %q", specs[0].AllowedOrigins, want)
	}
	if specs[1].AllowedOrigins != nil {
		t.Errorf("unset allowed origins = %q; want nil (any)", specs[1].AllowedOrigins)
	}
}

func TestAllowedOriginsErrorsNameTheLine(t *testing.T) {
	ws := func(transport, origins string) string {
		return "listen:\n  - address: 127.0.0.1:8080\n    transport: " + transport + "\n    allowed_origins: " + origins + "\n"
	}
	tests := []struct{ yaml, want string }{
		{ws("ws", "[]"), "t.yaml:4:22: listen[0].allowed_origins: is empty"},
		{ws("ws", "[app.example.com]"), `t.yaml:4:23: listen[0].allowed_origins[0]: "app.example.com" is not an http or https origin`},
		{ws("ws", "[https://a.example, https://b.example/]"), `t.yaml:4:42: listen[0].allowed_origins[1]: "https://b.example/" is more than an origin`},
		{ws("ws", "[ftp://a.example]"), `t.yaml:4:23: listen[0].allowed_origins[0]: "ftp://a.example" is not an http or https origin`},
		{ws("ws", "[\"https://\"]"), `listen[0].allowed_origins[0]: "https://" has no host`},
		{ws("ws", "[\"https://a.example?x=1\"]"), `is more than an origin`},
		{ws("ws", "https://a.example"), "t.yaml:4:22: listen[0].allowed_origins: expected a list"},
		{ws("tcp", "[https://a.example]"), "t.yaml:4:22: listen[0].allowed_origins: applies to transport ws or wss, not tcp"},
	}
	for _, tt := range tests {
		_, err := Parse("t.yaml", []byte(tt.yaml))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s\nerror = %v\nwant  %q", tt.yaml, err, tt.want)
		}
	}
}
