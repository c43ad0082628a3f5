package config

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2"
)

func TestReadyOutputCompilesThePattern(t *testing.T) {
	c := valid(t, "-l", ":0", "--ready", "output:listening on port [0-9]+", "sh")
	if c.Ready.Kind != ReadyOutput || c.Ready.Output == nil {
		t.Fatalf("%+v", c.Ready)
	}
	if !c.Ready.Output.MatchString("server listening on port 8080") || c.Ready.Output.MatchString("listening on port x") {
		t.Fatalf("pattern %q does not match as written", c.Ready.Output)
	}
	if s := c.Ready.String(); s != "output:listening on port [0-9]+" {
		t.Fatalf("renders as %q", s)
	}
	// Everything after the first "output:" is the pattern, colons too.
	if c := valid(t, "-l", ":0", "--ready", "output:Uvicorn running on http://", "sh"); c.Ready.Output.String() != "Uvicorn running on http://" {
		t.Fatalf("pattern %q", c.Ready.Output)
	}
	if b, _ := json.Marshal(ReadyOutput); string(b) != `"output"` {
		t.Errorf("json %s", b)
	}
}

func TestReadyOutputRefusesABadPattern(t *testing.T) {
	onlyProblem(t, `--ready: "output:(" is not a valid regular expression (missing closing ) in "("): want output:REGEX in Go's RE2 syntax, such as 'output:listening on port [0-9]+'`,
		"-l", ":0", "--ready", "output:(", "sh")
	onlyProblem(t, `--ready: "output:a(?<x" is not a valid regular expression (invalid named capture in "(?<x"): want output:REGEX in Go's RE2 syntax, such as 'output:listening on port [0-9]+'`,
		"-l", ":0", "--ready", "output:a(?<x", "sh")
	onlyProblem(t, `--ready: "output:" has no pattern: want output:REGEX, a line the worker prints once it serves, such as 'output:listening on'`,
		"-l", ":0", "--ready", "output:", "sh")
	p := writeFile(t, "ready = \"output:[a-\"\nlisten = [\":0\"]\ncommand = [\"sh\"]\n")
	_, problems := resolveArgs(t, "-c", p)
	if len(problems) != 1 || !strings.HasPrefix(problems[0].Error(), p+`: key "ready": "output:[a-" is not a valid regular expression (missing closing ] in "[a-")`) {
		t.Fatalf("from the file: %v", problems)
	}
	for _, e := range problems {
		if strings.Contains(e.Error(), "\n") {
			t.Fatalf("not one line: %q", e)
		}
	}
}

func TestReadyOutputIsNamedInTheOtherRefusals(t *testing.T) {
	onlyProblem(t, `--ready: "sometimes" is not valid: valid is notify, output:REGEX (e.g. 'output:listening on'), tcp, http:PATH or delay:DUR (e.g. delay:2s)`,
		"-l", ":0", "--ready", "sometimes", "sh")
	onlyProblem(t, `--ready: "tcp" probes a worker's private port and needs --mode proxy: with inherited sockets use notify, output:REGEX or delay:DUR`,
		"-l", ":0", "--ready", "tcp", "sh")
}

// baton check prints an output: readiness so that baton run -c reads the
// same pattern back.
func TestReadyOutputReadsBackFromTheEffectiveConfig(t *testing.T) {
	c := valid(t, "-l", ":0", "--ready", `output:^\* Listening on tcp://`, "--", "sh")
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(c.Raw()); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "eff.toml")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	back := valid(t, "-c", p)
	if back.Ready.Kind != ReadyOutput || back.Ready.String() != c.Ready.String() {
		t.Fatalf("read back %q, want %q:\n%s", back.Ready, c.Ready, buf.String())
	}
}
