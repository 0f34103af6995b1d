package scenarios

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/kalab-dev/kalab/sim/middlebox"
)

// suiteFS holds the built-in suite, embedded in the binary.
//
//go:embed suite/*.yaml
var suiteFS embed.FS

// SuiteNames returns the names of the built-in suite files ("nginx" for
// suite/nginx.yaml), sorted.
func SuiteNames() []string {
	entries, err := fs.ReadDir(suiteFS, "suite")
	if err != nil {
		panic(fmt.Sprintf("scenarios: embedded suite unreadable: %v", err))
	}
	var names []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".yaml"); ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}

// Suite loads the whole built-in suite, files in name order.
func Suite() ([]Scenario, error) {
	var all []Scenario
	for _, n := range SuiteNames() {
		ss, err := SuiteFile(n)
		if err != nil {
			return nil, err
		}
		all = append(all, ss...)
	}
	if err := checkUnique(all); err != nil {
		return nil, err
	}
	return all, nil
}

// SuiteFile loads one built-in suite file by name ("nginx").
func SuiteFile(name string) ([]Scenario, error) {
	file := path.Join("suite", name+".yaml")
	data, err := suiteFS.ReadFile(file)
	if err != nil {
		if sug, ok := middlebox.ClosestOf(name, SuiteNames()); ok {
			return nil, fmt.Errorf("no built-in scenario %q (did you mean %q?)", name, sug)
		}
		return nil, fmt.Errorf("no built-in scenario %q (built-in: %s)", name, strings.Join(SuiteNames(), ", "))
	}
	return Parse(file, data)
}

// LoadFile reads every scenario of one file.
func LoadFile(file string) ([]Scenario, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return Parse(file, data)
}

// LoadDir reads every *.yaml and *.yml file of dir (not recursively), in name order.
func LoadDir(dir string) ([]Scenario, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var all []Scenario
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if e.IsDir() || (ext != ".yaml" && ext != ".yml") {
			continue
		}
		ss, err := LoadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		all = append(all, ss...)
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("%s: no scenario files (*.yaml, *.yml)", dir)
	}
	return all, nil
}

// Resolve loads what a command line names: each argument is a file, a directory,
// the name of a built-in suite file ("nginx"), or "suite" for the whole built-in
// suite. No arguments mean the whole built-in suite. Scenario names must be unique
// across everything loaded.
func Resolve(args []string) ([]Scenario, error) {
	if len(args) == 0 {
		return Suite()
	}
	var all []Scenario
	for _, a := range args {
		var (
			ss  []Scenario
			err error
		)
		st, statErr := os.Stat(a)
		switch {
		case statErr == nil && st.IsDir():
			ss, err = LoadDir(a)
		case statErr == nil:
			ss, err = LoadFile(a)
		case a == "suite":
			ss, err = Suite()
		case !strings.ContainsAny(a, `/\.`):
			ss, err = SuiteFile(a)
		default:
			err = statErr
		}
		if err != nil {
			return nil, err
		}
		all = append(all, ss...)
	}
	if err := checkUnique(all); err != nil {
		return nil, err
	}
	return all, nil
}
