package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2"
)

func TestConfigWithAByteOrderMarkIsRead(t *testing.T) {
	p := writeFile(t, "\xef\xbb\xbfworkers = 2\nlisten = [\":0\"]\ncommand = [\"sh\"]\n")
	if c := valid(t, "-c", p); c.Workers != 2 {
		t.Fatalf("workers %d", c.Workers)
	}
	// Positions stay those the user sees: the mark takes no column.
	p = writeFile(t, "\xef\xbb\xbfwrkers = 2\n")
	if _, problems := LoadFile(p); len(problems) != 1 || !strings.HasPrefix(problems[0].Error(), p+`:1:1: unknown key "wrkers"`) {
		t.Fatalf("%v", problems)
	}
}

func TestEveryTypeErrorIsListed(t *testing.T) {
	p := writeFile(t, strings.Join([]string{
		`workers = "4"`,
		`listen = ":8080"`,
		`stop_timeout = 30`,
		`env = ["A=1", 2, true]`,
		`parallel = 1.5`,
		`nme = "x"`,
		`command = ["sh"]`,
		`[name]`,
		`x = 1`,
	}, "\n")+"\n")
	_, problems := LoadFile(p)
	want := []string{
		p + `:1:11: key "workers": want an integer, got a string "4"`,
		p + `:2:10: key "listen": want an array of strings, got a string ":8080"`,
		p + `:3:16: key "stop_timeout": want a string, got an integer 30`,
		p + `:4:15: key "env": element 2: want a string, got an integer 2`,
		p + `:4:18: key "env": element 3: want a string, got a boolean true`,
		p + `:5:12: key "parallel": want an integer, got a float 1.5`,
		p + `:6:1: unknown key "nme" (valid keys: `,
		p + `:8:2: key "name": want a string, got a table`,
	}
	if len(problems) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(problems), len(want), Problems(problems))
	}
	for i, w := range want {
		if !strings.HasPrefix(problems[i].Error(), w) {
			t.Errorf("problem %d:\n got %s\nwant %s", i, problems[i], w)
		}
	}
	// An array where a scalar belongs points at the key.
	p = writeFile(t, "name = [\"a\"]\n")
	if _, problems := LoadFile(p); len(problems) != 1 || problems[0].Error() != p+`:1:1: key "name": want a string, got an array` {
		t.Fatalf("%v", problems)
	}
}

func TestSyntaxAndRangeErrorsStillHaveAPosition(t *testing.T) {
	for body, want := range map[string]string{
		"workers = \n":                     ":1:",
		"workers = 99999999999999999999\n": ":1:",
		"workers = 1\nworkers = 2\n":       ":2:",
	} {
		_, problems := LoadFile(writeFile(t, body))
		if len(problems) != 1 || !strings.Contains(problems[0].Error(), "b.toml"+want) || strings.Contains(problems[0].Error(), "\n") {
			t.Errorf("%q: %v", body, problems)
		}
	}
}

func TestMissingConfigFileSaysSoPlainly(t *testing.T) {
	_, problems := LoadFile("nosuch.toml")
	if len(problems) != 1 || problems[0].Error() != "--config: cannot read nosuch.toml: no such file or directory" {
		t.Fatalf("%v", problems)
	}
	dir := t.TempDir()
	if _, problems := LoadFile(dir); len(problems) != 1 || problems[0].Error() != "--config: cannot read "+dir+": is a directory" {
		t.Fatalf("%v", problems)
	}
}

func TestProblemsJoinsOrIsNil(t *testing.T) {
	if Problems(nil) != nil || Problems([]error{}) != nil {
		t.Fatal("no problems must be nil")
	}
	a, b := errors.New("a"), errors.New("b")
	err := Problems([]error{a, b})
	if err == nil || err.Error() != "a\nb" || !errors.Is(err, b) {
		t.Fatalf("%v", err)
	}
}

// The effective config, printed as TOML, reads back to the same config.
func TestEffectiveConfigReadsBack(t *testing.T) {
	dir := t.TempDir()
	c := valid(t, "-l", "web=127.0.0.1:0", "-l", "unix:"+filepath.Join(dir, "a.sock"), "--listen-mode", "0660",
		"-w", "3", "--strategy", "replace", "--ready", "delay:1s", "--stop-signal", "QUIT", "--env", "A=1", "--", "sh", "-c", "x")
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(c.Raw()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "listen_mode = '0660'") {
		t.Fatalf("listen_mode not printed:\n%s", buf.String())
	}
	p := filepath.Join(dir, "eff.toml")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	back := valid(t, "-c", p)
	back.File = ""
	if !reflect.DeepEqual(back, c) {
		t.Fatalf("read back differs:\n%+v\n%+v", back, c)
	}
}

// The list of valid keys in an unknown-key problem names every key the
// loader reads (steer was once missing from it).
func TestUnknownKeyListsEveryValidKey(t *testing.T) {
	p := writeFile(t, "stear = \"off\"\n")
	_, problems := LoadFile(p)
	if len(problems) != 1 {
		t.Fatalf("got %v", problems)
	}
	for key := range keyKinds() {
		if !strings.Contains(problems[0].Error(), " "+key+",") && !strings.HasSuffix(problems[0].Error(), " "+key+")") {
			t.Errorf("the valid keys miss %q: %s", key, problems[0])
		}
	}
}
