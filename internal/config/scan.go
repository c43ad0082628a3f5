package config

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// scanFile walks the top-level expressions of a TOML document without
// decoding it, so that every problem is found, not only the first as a
// decoder stops at: each unknown key, and each value whose TOML type is not
// the one its key wants. It returns the top-level keys present, the
// problems, and the parser's error when the document is not TOML at all.
func scanFile(path string, data []byte) (present []string, problems []error, err error) {
	s := &scanner{path: path, kinds: keyKinds()}
	s.p.Reset(data)
	inTable := false
	for s.p.NextExpression() {
		e := s.p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			inTable = true // its keys belong to the table, reported once here
			s.check(e, nil)
		case unstable.KeyValue:
			if !inTable {
				s.check(e, e.Value())
			}
		}
	}
	return s.present, s.problems, s.p.Error()
}

// keyKinds maps each key of [Raw] to the Go kind of its field: String, Int,
// or Slice (of strings). The struct tags are the one list of keys.
func keyKinds() map[string]reflect.Kind {
	t := reflect.TypeFor[Raw]()
	out := make(map[string]reflect.Kind, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("toml"), ","); name != "" {
			out[name] = t.Field(i).Type.Kind()
		}
	}
	return out
}

type scanner struct {
	p        unstable.Parser
	path     string
	kinds    map[string]reflect.Kind
	present  []string
	problems []error
}

// check looks at one expression: a key = value (value set), or a [table]
// header (value nil), which baton's flat file never has.
func (s *scanner) check(e, value *unstable.Node) {
	it := e.Key()
	it.Next()
	first := it.Node()
	parts := []string{string(first.Data)}
	for it.Next() {
		parts = append(parts, string(it.Node().Data))
	}
	key := parts[0]
	s.present = append(s.present, key)
	kind, known := s.kinds[key]
	switch {
	case !known:
		s.fail(first, "unknown key %q (valid keys: %s)", strings.Join(parts, "."), strings.Join(Keys(), ", "))
	case value == nil || len(parts) > 1:
		s.fail(first, "key %q: want %s, got a table", key, kindName(kind))
	default:
		s.checkValue(key, kind, first, value)
	}
}

// tomlKind is the TOML type that each kind of Raw field wants.
var tomlKind = map[reflect.Kind]unstable.Kind{
	reflect.String: unstable.String, reflect.Int: unstable.Integer, reflect.Slice: unstable.Array,
}

// tomlNames names TOML types for messages; the others are dates and times.
var tomlNames = map[unstable.Kind]string{
	unstable.String: "a string", unstable.Integer: "an integer", unstable.Float: "a float",
	unstable.Bool: "a boolean", unstable.Array: "an array", unstable.InlineTable: "a table",
}

func (s *scanner) checkValue(key string, kind reflect.Kind, at, value *unstable.Node) {
	if value.Kind != tomlKind[kind] {
		s.fail(s.where(value, at), "key %q: want %s, got %s", key, kindName(kind), s.describe(value))
		return
	}
	if kind != reflect.Slice {
		return
	}
	it := value.Children()
	for i := 1; it.Next(); i++ {
		if el := it.Node(); el.Kind != unstable.String {
			s.fail(s.where(el, at), "key %q: element %d: want a string, got %s", key, i, s.describe(el))
		}
	}
}

// where is the node to point at: the value when the parser recorded its
// place (scalars, inline tables), else the key.
func (s *scanner) where(value, key *unstable.Node) *unstable.Node {
	if value.Raw.Length > 0 {
		return value
	}
	return key
}

func (s *scanner) fail(at *unstable.Node, format string, args ...any) {
	pos := s.p.Shape(at.Raw).Start
	s.problems = append(s.problems, fmt.Errorf("%s:%d:%d: %s", shownPath(s.path), pos.Line, pos.Column, fmt.Sprintf(format, args...)))
}

// describe names a value's TOML type, with the value when it is short.
func (s *scanner) describe(n *unstable.Node) string {
	name, ok := tomlNames[n.Kind]
	if !ok {
		name = "a date or time"
	}
	if n.Kind == unstable.Array || n.Kind == unstable.InlineTable || n.Raw.Length == 0 {
		return name
	}
	text := string(s.p.Raw(n.Raw))
	if len(text) > 40 {
		text = text[:37] + "..."
	}
	return name + " " + oneLine(text)
}

func kindName(k reflect.Kind) string {
	switch k {
	case reflect.Int:
		return "an integer"
	case reflect.Slice:
		return "an array of strings"
	}
	return "a string"
}
