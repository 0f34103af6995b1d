package scenarios

import (
	"bytes"
	"errors"
	"io"

	"go.yaml.in/yaml/v3"
)

// ParseClient reads a file holding one client entry, with the same fields as an
// entry of a scenario's clients list (preset, config, name, expect), for programs
// that run a single policy, such as kalab live:
//
//	preset: kalab
//	config: {interval: 45s}
//
// or a full config ("config: {strategy: ping, interval: 20s}"; the name then
// defaults to "config"), or just a preset name ("whatsmeow"). Errors are an
// ErrorList located at file:line:field.
func ParseClient(file string, data []byte) (Client, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return Client{}, ErrorList{{File: file, Msg: "empty file: give a preset (e.g. preset: kalab) or a config"}}
		}
		return Client{}, ErrorList{syntaxError(file, err)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return Client{}, ErrorList{{File: file, Line: extra.Line, Msg: "more than one YAML document: a client file holds one client"}}
	}
	if len(root.Content) == 0 {
		return Client{}, ErrorList{{File: file, Msg: "empty file: give a preset (e.g. preset: kalab) or a config"}}
	}
	n := root.Content[0]
	if n.Kind == yaml.MappingNode && !hasKey(n, "name") && !hasKey(n, "preset") {
		// A bare config needs no name here: there is only one client.
		n.Content = append(n.Content,
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "name"},
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "config"})
	}
	d := newDecoder(file)
	c, ok := d.client(n, "")
	if !ok || len(d.errs) > 0 {
		if len(d.errs) == 0 {
			return Client{}, ErrorList{{File: file, Line: n.Line, Msg: "invalid client"}}
		}
		return Client{}, d.errs
	}
	return c, nil
}

// hasKey reports whether mapping n sets key directly.
func hasKey(n *yaml.Node, key string) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Kind == yaml.ScalarNode && n.Content[i].Value == key {
			return true
		}
	}
	return false
}
