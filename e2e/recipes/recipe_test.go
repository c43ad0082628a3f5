package recipes

import (
	"bufio"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/batonhq/baton/internal/e2etest"
)

// recipe is one recipe of the README's "Making your server
// restart-friendly": its code blocks and its `baton run` line, so a test
// runs the recipe as written rather than a copy that could drift.
type recipe struct {
	code    map[string]string // the first block of each language ("js", "ruby")
	flags   []string          // the baton run line's flags, before "--"
	command []string          // after "--"
}

// readmeRecipe reads the recipe under heading (e.g. "### Node.js"), the
// first `baton run` line there that mentions program.
func readmeRecipe(t *testing.T, heading, program string) recipe {
	t.Helper()
	f, err := os.Open(e2etest.ModulePath("README.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := recipe{code: map[string]string{}}
	in, lang, block := false, "", ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == heading:
			in = true
		case !in:
		case lang == "" && (strings.HasPrefix(line, "## ") || strings.HasPrefix(line, "### ")):
			in = false
		case lang == "" && strings.HasPrefix(line, "```"):
			lang, block = strings.TrimPrefix(line, "```"), ""
		case lang != "" && line == "```":
			r.addBlock(t, lang, block, program)
			lang = ""
		case lang != "":
			block += line + "\n"
		}
	}
	if r.command == nil {
		t.Fatalf("README: no `baton run` line of %s under %q", program, heading)
	}
	return r
}

func (r *recipe) addBlock(t *testing.T, lang, block, program string) {
	if _, ok := r.code[lang]; !ok {
		r.code[lang] = block
	}
	if lang != "sh" || r.command != nil {
		return
	}
	for _, line := range strings.Split(block, "\n") {
		if strings.HasPrefix(line, "baton run ") && strings.Contains(line, program) {
			words := shellWords(t, strings.TrimPrefix(line, "baton run "))
			i := slices.Index(words, "--")
			if i < 0 {
				t.Fatalf("README: no -- in %q", line)
			}
			r.flags, r.command = words[:i], words[i+1:]
			return
		}
	}
}

// shellWords splits a command line as sh would, for the quoting the README
// uses: words separated by spaces, '...' quoting, a trailing # comment.
func shellWords(t *testing.T, line string) []string {
	var words []string
	word, quoted, inWord := "", false, false
	for _, c := range line {
		switch {
		case c == '\'':
			quoted, inWord = !quoted, true
		case quoted:
			word += string(c)
		case c == '#' && !inWord:
			return words
		case c == ' ':
			if inWord {
				words = append(words, word)
			}
			word, inWord = "", false
		default:
			word, inWord = word+string(c), true
		}
	}
	if quoted {
		t.Fatalf("README: unbalanced quote in %q", line)
	}
	if inWord {
		words = append(words, word)
	}
	return words
}

// runFlags are the recipe's flags for a test master: on a free port, with
// n workers and the given name.
func (r recipe) runFlags(name string, n int) []string {
	out := []string{"--name", name}
	for i := 0; i < len(r.flags); i++ {
		switch f := r.flags[i]; {
		case (f == "-l" || f == "-w") && i+1 < len(r.flags):
			i++
		default:
			out = append(out, f)
		}
	}
	return append(out, "-l", "127.0.0.1:0", "-w", strconv.Itoa(n))
}

// flag returns the value of the recipe's flag name ("--ready").
func (r recipe) flag(name string) string {
	if i := slices.Index(r.flags, name); i >= 0 && i+1 < len(r.flags) {
		return r.flags[i+1]
	}
	return ""
}

// peer finds a program a recipe runs, or skips the test saying how to
// install it.
func peer(t *testing.T, name, install string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s is not installed: %s (.ci/run does)", name, install)
	}
	return p
}

func execLook(name string) (string, error) { return exec.LookPath(name) }

// importable reports whether python imports module.
func importable(python, module string) bool {
	return exec.Command(python, "-c", "import "+module).Run() == nil
}
