package scenarios

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/kalab-dev/kalab/sim/middlebox"
)

// decoder walks a yaml.Node tree into Go values, collecting located errors. It
// decodes strictly: unknown fields are errors (with the closest valid name),
// durations must be Go duration strings ("60s", "24h"), numbers must fit their type.
// Structs are decoded field by field onto the existing value, so a preset can be
// overridden by the fields a file sets.
type decoder struct {
	file string
	errs ErrorList
	// budget bounds the nodes visited, so aliases cannot make a small file
	// expand into an enormous walk.
	budget int
}

// nodeBudget is the most nodes one file may expand to through aliases.
const nodeBudget = 200000

var durationType = reflect.TypeFor[time.Duration]()

func newDecoder(file string) *decoder { return &decoder{file: file, budget: nodeBudget} }

// fail records an error at node n for the field path.
func (d *decoder) fail(n *yaml.Node, field, format string, args ...any) {
	if len(d.errs) >= maxErrors {
		return
	}
	e := &Error{File: d.file, Field: field, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	d.errs = append(d.errs, e)
}

// resolve follows aliases and spends budget; it returns nil when the budget is gone.
func (d *decoder) resolve(n *yaml.Node, field string) *yaml.Node {
	for depth := 0; n != nil && n.Kind == yaml.AliasNode; depth++ {
		if depth > 100 {
			d.fail(n, field, "alias chain too deep")
			return nil
		}
		n = n.Alias
	}
	d.budget--
	if d.budget == 0 {
		d.fail(n, field, "document too large after expanding aliases")
	}
	if d.budget <= 0 {
		return nil
	}
	return n
}

// isNull reports whether n is an explicit or implicit YAML null.
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// decode stores n into v (addressable), reporting problems under field.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, field string) {
	n = d.resolve(n, field)
	if n == nil || isNull(n) {
		return
	}
	if v.Type() == durationType {
		if dur, ok := d.duration(n, field); ok {
			v.SetInt(int64(dur))
		}
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.structure(n, v, field)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.fail(n, field, "expected a list, got %s", describe(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			d.decode(item, s.Index(i), fmt.Sprintf("%s[%d]", field, i))
		}
		v.Set(s)
	case reflect.String:
		if s, ok := d.scalar(n, field); ok {
			v.SetString(s)
		}
	case reflect.Bool:
		s, ok := d.scalar(n, field)
		if !ok {
			return
		}
		b, err := strconv.ParseBool(s)
		if err != nil || n.ShortTag() != "!!bool" {
			d.fail(n, field, "expected true or false, got %q", s)
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64, reflect.Int32:
		s, ok := d.scalar(n, field)
		if !ok {
			return
		}
		i, err := strconv.ParseInt(s, 10, v.Type().Bits())
		if err != nil {
			d.fail(n, field, "expected a whole number, got %q", s)
			return
		}
		v.SetInt(i)
	case reflect.Uint, reflect.Uint64, reflect.Uint32:
		s, ok := d.scalar(n, field)
		if !ok {
			return
		}
		u, err := strconv.ParseUint(s, 10, v.Type().Bits())
		if err != nil {
			d.fail(n, field, "expected a whole number ≥ 0, got %q", s)
			return
		}
		v.SetUint(u)
	case reflect.Float64:
		s, ok := d.scalar(n, field)
		if !ok {
			return
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			d.fail(n, field, "expected a number, got %q", s)
			return
		}
		v.SetFloat(f)
	default:
		d.fail(n, field, "cannot decode into %s", v.Type())
	}
}

// scalar returns the text of a scalar node.
func (d *decoder) scalar(n *yaml.Node, field string) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		d.fail(n, field, "expected a single value, got %s", describe(n))
		return "", false
	}
	return n.Value, true
}

// duration parses a Go duration string; a bare number other than 0 is an error
// because its unit would be a guess.
func (d *decoder) duration(n *yaml.Node, field string) (time.Duration, bool) {
	s, ok := d.scalar(n, field)
	if !ok {
		return 0, false
	}
	if s == "0" {
		return 0, true
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		d.fail(n, field, "duration %q has no unit (write e.g. %q)", s, s+"s")
		return 0, false
	}
	dur, err := time.ParseDuration(s)
	if err != nil {
		d.fail(n, field, "%q is not a duration (write e.g. \"500ms\", \"60s\", \"15m\", \"24h\")", s)
		return 0, false
	}
	return dur, true
}

// structure decodes a mapping onto the struct v by the fields' yaml tags.
func (d *decoder) structure(n *yaml.Node, v reflect.Value, field string) {
	m, ok := d.mapping(n, field)
	if !ok {
		return
	}
	fields := yamlFields(v.Type())
	for _, kv := range m {
		idx, ok := fields[kv.key]
		if !ok {
			d.unknownField(kv.keyNode, field, kv.key, sortedKeys(fields))
			continue
		}
		d.decode(kv.value, v.FieldByIndex(idx), join(field, kv.key))
	}
}

// entry is one key: value pair of a mapping.
type entry struct {
	key     string
	keyNode *yaml.Node
	value   *yaml.Node
}

// mapping checks that n is a mapping with scalar, unique keys and returns its entries:
// those set directly in file order, then those merged in by "<<" that were not set
// directly. ok is false after an error.
func (d *decoder) mapping(n *yaml.Node, field string) ([]entry, bool) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, field, "expected a mapping (key: value), got %s", describe(n))
		return nil, false
	}
	var direct, merged []entry
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.fail(k, field, "keys must be plain names, got %s", describe(k))
			return nil, false
		}
		if k.ShortTag() == "!!merge" {
			src := d.resolve(val, field)
			if src == nil {
				return nil, false
			}
			sub, ok := d.mapping(src, field)
			if !ok {
				return nil, false
			}
			merged = append(merged, sub...)
			continue
		}
		if seen[k.Value] {
			d.fail(k, join(field, k.Value), "set twice in the same mapping")
			continue
		}
		seen[k.Value] = true
		direct = append(direct, entry{key: k.Value, keyNode: k, value: val})
	}
	// Keys set directly override merged ones; the first merge of a key wins.
	for _, e := range merged {
		if !seen[e.key] {
			seen[e.key] = true
			direct = append(direct, e)
		}
	}
	return direct, true
}

func (d *decoder) unknownField(n *yaml.Node, field, key string, valid []string) {
	if sug, ok := middlebox.ClosestOf(key, valid); ok {
		d.fail(n, join(field, key), "unknown field (did you mean %q?)", sug)
		return
	}
	d.fail(n, join(field, key), "unknown field (valid: %s)", strings.Join(valid, ", "))
}

// yamlFields maps yaml names to field indexes; "-" and untagged unexported fields
// are skipped.
func yamlFields(t reflect.Type) map[string][]int {
	out := map[string][]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Index
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// join appends a key to a field path.
func join(field, key string) string {
	if field == "" {
		return key
	}
	return field + "." + key
}

// describe names a node's shape for messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	}
	return "nothing"
}
