package configs

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// decoder walks a yaml.Node tree by hand so that every unknown key, wrong
// type and unparsable value is reported with its line and column, all at
// once, instead of stopping at the first like yaml.Decoder does.
type decoder struct {
	file string
	pos  map[string]position
	errs problems
}

func (d *decoder) fail(n *yaml.Node, path, format string, args ...any) {
	d.errs.add(&Error{File: d.file, Line: n.Line, Column: n.Column, Path: path, Msg: fmt.Sprintf(format, args...), key: path})
}

// resolve follows aliases (*name) to the node they stand for.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 16; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a map"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// mapping decodes a map whose keys are known in fields. A null map is an
// absent section. where names the map in "unknown key" messages.
func (d *decoder) mapping(n *yaml.Node, path string, fields map[string]func(*yaml.Node, string)) {
	n = resolve(n)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "expected a map, got %s", kindName(n))
		return
	}
	d.pos[path] = position{line: n.Line, col: n.Column}
	seen := make(map[string]int)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.fail(k, path, "expected a key, got %s", kindName(k))
			continue
		}
		field, ok := fields[k.Value]
		if !ok {
			where := " in " + path
			if path == "" {
				where = " at the top level"
			}
			d.fail(k, "", "unknown key %q%s", k.Value, where)
			d.errs[len(d.errs)-1].key = joinPath(path, k.Value)
			continue
		}
		if line, dup := seen[k.Value]; dup {
			d.fail(k, path, "key %q given twice (first on line %d)", k.Value, line)
			continue
		}
		seen[k.Value] = k.Line
		child := joinPath(path, k.Value)
		rv := resolve(v)
		d.pos[child] = position{line: rv.Line, col: rv.Column}
		field(rv, child)
	}
}

// list decodes a sequence, calling item for each element. A null list
// leaves the target alone and reports false.
func (d *decoder) list(n *yaml.Node, path string, item func(i int, n *yaml.Node, path string)) bool {
	n = resolve(n)
	if isNull(n) {
		return false
	}
	if n.Kind != yaml.SequenceNode {
		d.fail(n, path, "expected a list, got %s", kindName(n))
		return false
	}
	for i, c := range n.Content {
		c = resolve(c)
		p := fmt.Sprintf("%s[%d]", path, i)
		d.pos[p] = position{line: c.Line, col: c.Column}
		item(i, c, p)
	}
	return true
}

// scalar returns the text of a scalar; ok is false (and a problem is
// recorded) for maps and lists, and false without a problem for null.
func (d *decoder) scalar(n *yaml.Node, path string) (string, bool) {
	if isNull(n) {
		return "", false
	}
	if n.Kind != yaml.ScalarNode {
		d.fail(n, path, "expected a single value, got %s", kindName(n))
		return "", false
	}
	return n.Value, true
}

func (d *decoder) str(dst *string) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		if s, ok := d.scalar(n, path); ok {
			*dst = s
		}
	}
}

func (d *decoder) integer(dst *int) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		s, ok := d.scalar(n, path)
		if !ok {
			return
		}
		var v int
		switch {
		case n.Tag != "!!int" && strings.Trim(s, "+-0123456789_") != "":
			d.fail(n, path, "%q is not an integer", s)
			return
		case n.Tag != "!!int" || n.Decode(&v) != nil:
			d.fail(n, path, "%s is too large", s)
			return
		}
		*dst = v
	}
}

func (d *decoder) duration(dst *time.Duration) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		s, ok := d.scalar(n, path)
		if !ok {
			return
		}
		v, err := time.ParseDuration(s)
		if err != nil {
			d.fail(n, path, "%q is not a duration like 500ms, 4s or 1m30s", s)
			return
		}
		*dst = v
	}
}

func (d *decoder) addrPort(dst *netip.AddrPort) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		s, ok := d.scalar(n, path)
		if !ok {
			return
		}
		ap, err := parseAddrPort(s)
		if err != nil {
			d.fail(n, path, "%v", err)
			return
		}
		*dst = ap
	}
}

func (d *decoder) addr(dst *netip.Addr) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		s, ok := d.scalar(n, path)
		if !ok {
			return
		}
		a, err := parseAddr(s)
		if err != nil {
			d.fail(n, path, "%v", err)
			return
		}
		*dst = a
	}
}

func (d *decoder) boolean(dst *bool) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		s, ok := d.scalar(n, path)
		if !ok {
			return
		}
		var v bool
		if n.Tag != "!!bool" || n.Decode(&v) != nil {
			d.fail(n, path, "%q is not true or false", s)
			return
		}
		*dst = v
	}
}
