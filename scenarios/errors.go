package scenarios

import (
	"fmt"
	"strings"
)

// Error is one problem in a scenario file, located by file, line and field path.
// Its text reads "suite/nginx.yaml:14: clients[2].preset: unknown preset "whatsmeo"
// (did you mean "whatsmeow"?)".
type Error struct {
	// File is the scenario file's name as given to the loader.
	File string
	// Line and Column locate the offending YAML node (1-based; 0 when unknown).
	Line, Column int
	// Field is the path of the field from the document root, e.g. "clients[2].preset";
	// empty for problems of the whole document.
	Field string
	// Msg says what is wrong and, where possible, what to write instead.
	Msg string
}

// Error formats the problem as "file:line: field: message" (line and field
// left out when unknown).
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ErrorList is every problem found in one load, in file order. It is returned only
// when non-empty.
type ErrorList []*Error

// Error joins the problems' messages, one a line.
func (l ErrorList) Error() string {
	parts := make([]string, len(l))
	for i, e := range l {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// Unwrap exposes the individual errors to errors.Is and errors.As.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// maxErrors caps how many problems one load reports.
const maxErrors = 20
