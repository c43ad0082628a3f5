package config

import (
	"bytes"
	"fmt"
	"os"

	"github.com/pelletier/go-toml/v2"
)

// utf8BOM is the byte order mark some editors put at the start of a file.
var utf8BOM = []byte("\xef\xbb\xbf")

// LoadFile reads a TOML file strictly: a syntax error, every unknown key
// and every value of the wrong type are problems with FILE:LINE:COLUMN. A
// leading UTF-8 byte order mark is ignored. The returned Raw has its keys'
// origin set to the file.
func LoadFile(path string) (Raw, []error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Raw{}, []error{fmt.Errorf("--config: cannot read %s: %w", shownPath(path), unwrapPath(err))}
	}
	return loadBytes(path, data)
}

// loadBytes is LoadFile on data read from path.
func loadBytes(path string, data []byte) (Raw, []error) {
	data = bytes.TrimPrefix(data, utf8BOM)
	present, problems, err := scanFile(path, data)
	if err != nil {
		return Raw{}, syntaxProblem(path, data, err)
	}
	if len(problems) > 0 {
		return Raw{}, problems
	}
	var r Raw
	dec := toml.NewDecoder(bytes.NewReader(data)).DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return Raw{}, decodeProblems(path, err)
	}
	for _, k := range present {
		r.setOrigin(k, fromFile)
	}
	return r, nil
}

// syntaxProblem reports a document that does not parse. The decoder parses
// it again to give the error its line and column.
func syntaxProblem(path string, data []byte, err error) []error {
	var any map[string]any
	if derr := toml.Unmarshal(data, &any); derr != nil {
		return decodeProblems(path, derr)
	}
	return []error{fmt.Errorf("%s: %s", shownPath(path), oneLine(err.Error()))}
}
