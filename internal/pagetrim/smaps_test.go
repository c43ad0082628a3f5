package pagetrim

import (
	"strings"
	"testing"
)

const sampleSmaps = `00400000-00a9d000 r-xp 00000000 fe:00 10028040                           /usr/bin/baton
Size:               6772 kB
Rss:                5684 kB
Anonymous:             0 kB
VmFlags: rd ex mr mw me
01209000-01275000 rw-p 00e09000 fe:00 10028040                           /usr/bin/baton
Rss:                 368 kB
Anonymous:           108 kB
VmFlags: rd wr mr mw me ac
7f00000000-7f00010000 r--p 00000000 fe:00 42                             /data/a file (deleted)
Rss:                  64 kB
Anonymous:             0 kB
VmFlags: rd mr mw me lo
7f00010000-7f00020000 r--p 00000000 fe:00 43                             /data/patched
Rss:                  64 kB
Anonymous:             4 kB
7ffe90fc2000-7ffe90fe3000 rw-p 00000000 00:00 0                          [stack]
Rss:                  16 kB
Anonymous:            16 kB
7ffe90ff0000-7ffe90ff2000 r-xp 00000000 00:00 0                          [vdso]
Rss:                   8 kB
Anonymous:             0 kB
`

func TestParseSmaps(t *testing.T) {
	maps, err := parseSmaps([]byte(sampleSmaps))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		path      string
		rss, anon int64
		droppable bool
	}{
		{"/usr/bin/baton", 5684 << 10, 0, true},
		{"/usr/bin/baton", 368 << 10, 108 << 10, false}, // writable
		{"/data/a file (deleted)", 64 << 10, 0, false},  // locked
		{"/data/patched", 64 << 10, 4 << 10, false},     // a private copy
		{"[stack]", 16 << 10, 16 << 10, false},          // not a file
		{"[vdso]", 8 << 10, 0, false},                   // not a file
	}
	if len(maps) != len(want) {
		t.Fatalf("parsed %d mappings, want %d: %+v", len(maps), len(want), maps)
	}
	for i, w := range want {
		m := maps[i]
		if m.path != w.path || m.rss != w.rss || m.anonymous != w.anon || m.droppable() != w.droppable {
			t.Errorf("mapping %d = %+v (droppable %v), want %+v", i, m, m.droppable(), w)
		}
	}
	if maps[0].start != 0x400000 || maps[0].end != 0xa9d000 || maps[0].perms != "r-xp" {
		t.Errorf("mapping 0 = %#x-%#x %s, want 0x400000-0xa9d000 r-xp", maps[0].start, maps[0].end, maps[0].perms)
	}
}

func TestParseSmapsRejectsMalformed(t *testing.T) {
	for _, text := range []string{
		"Rss: 4 kB\n",                       // a field before any mapping
		"zz-10 r--p 0 fe:00 1 /x\n",         // not hex
		"20-10 r--p 0 fe:00 1 /x\n",         // end before start
		"10-20 r--p\n",                      // too few fields
		"10-20 r--p 0 fe:00 1 /x\nRss: 4\n", // no unit
		"10-20 r--p 0 fe:00 1 /x\nAnonymous: x kB\n",
	} {
		if _, err := parseSmaps([]byte(text)); err == nil {
			t.Errorf("parseSmaps(%q) = nil error, want one", strings.TrimSpace(text))
		}
	}
}

func TestStatusField(t *testing.T) {
	status := "Name:\tbaton\nVmRSS:\t   15176 kB\nRssAnon:\t    7532 kB\nRssFile:\t    7644 kB\nThreads:\t10\n"
	if kb, ok := statusField([]byte(status), "RssFile:"); !ok || kb != 7644 {
		t.Errorf("RssFile = %d, %v; want 7644", kb, ok)
	}
	if _, ok := statusField([]byte(status), "Threads:"); ok {
		t.Error("a field without kB read as a size")
	}
	if _, ok := statusField([]byte(status), "RssShmem:"); ok {
		t.Error("a missing field read as a size")
	}
}
