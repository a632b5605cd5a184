package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"
	"sort"
	"strings"
)

// pickSections returns the sections named in only, a comma-separated
// list, in their usual order; all of them when only is empty.
func pickSections(sections []section, only string) ([]section, error) {
	if only == "" {
		return sections, nil
	}
	want := map[string]bool{}
	for _, name := range strings.Split(only, ",") {
		want[strings.TrimSpace(name)] = true
	}
	var picked []section
	for _, s := range sections {
		if want[s.name] {
			picked = append(picked, s)
			delete(want, s.name)
		}
	}
	for name := range want {
		var names []string
		for _, s := range sections {
			names = append(names, s.name)
		}
		return nil, fmt.Errorf("-only: unknown section %q; sections are %s", name, strings.Join(names, ", "))
	}
	return picked, nil
}

// readResults reads the results file at path; none when it does not exist.
func readResults(path string) Results {
	var r Results
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return r
	}
	if err != nil {
		log.Fatalf("read %s: %v", path, err)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		log.Fatalf("read %s: %v", path, err)
	}
	return r
}

// merge returns old with the figures of the sections in ran replaced by
// those of run, sections in their usual order. A figure written before
// figures carried their section, commit and time gets its file's.
func merge(old, run Results, ran []string, sections []section) Results {
	order := map[string]int{}
	for i, s := range sections {
		order[s.name] = i
	}
	replaced := map[string]bool{}
	for _, name := range ran {
		replaced[name] = true
	}
	var figures []Figure
	for _, f := range old.Figures {
		if f.Section == "" {
			f.Section = legacySection(f.Name)
		}
		if f.Commit == "" {
			f.Commit, f.When = old.Commit, old.When
		}
		if !replaced[f.Section] {
			figures = append(figures, f)
		}
	}
	figures = append(figures, run.Figures...)
	sort.SliceStable(figures, func(i, j int) bool { return order[figures[i].Section] < order[figures[j].Section] })
	run.Figures = figures
	return run
}

// legacySection is the section of a figure written before figures named
// theirs.
func legacySection(name string) string {
	switch {
	case strings.HasPrefix(name, "e2e.actions"):
		return "throughput"
	case strings.HasPrefix(name, "e2e.freshness"):
		return "freshness"
	case strings.HasPrefix(name, "api.") || strings.HasPrefix(name, "api_role."):
		return "api"
	case strings.HasPrefix(name, "relay."):
		return "relay"
	case strings.HasPrefix(name, "ingest."):
		return "indexer"
	case strings.HasPrefix(name, "search."):
		return "search"
	}
	return name
}
