// Command charts draws the SVG charts that BENCHMARKS.md shows next to its
// tables, from the figures in figures.go (see the top of that file for how
// to update one). From the repository root:
//
//	go run ./bench/charts
//
// rewrites every bench/charts/<name>.svg. The SVGs are self-contained (no
// script, no web font), carry a <title> and <desc> for screen readers, and
// have a white background so they read on GitHub's light and dark themes.
// Rendering is deterministic: the same figures give the same bytes, which
// go test ./bench/charts checks against the committed files.
//
// The program depends on the standard library only.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	dir := flag.String("out", filepath.Join("bench", "charts"), "directory to write the SVG files to")
	flag.Parse()
	if err := writeAll(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "charts:", err)
		os.Exit(1)
	}
}

// writeAll renders every chart into dir, which must exist, and reports
// each file it changed.
func writeAll(dir string) error {
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return fmt.Errorf("%s is not a directory: run from the repository root (go run ./bench/charts) or pass -out DIR", dir)
	}
	for _, ch := range charts() {
		path := filepath.Join(dir, ch.Name+".svg")
		svg := ch.Render().String()
		old, err := os.ReadFile(path)
		if err == nil && string(old) == svg {
			continue
		}
		if err := os.WriteFile(path, []byte(svg), 0o644); err != nil {
			return fmt.Errorf("write chart %s: %w", ch.Name, err)
		}
		fmt.Println("wrote", path)
	}
	return nil
}
