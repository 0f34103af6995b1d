package reports

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"
)

// JUnit XML in the common shape CI systems read (Jenkins' junit-10.xsd, as read by
// GitHub Actions reporters, GitLab and Jenkins): testsuites > testsuite > testcase
// > failure. One testsuite per scenario, one testcase per client expectation.
// Durations are "0": results hold no wall-clock time, so the file stays
// deterministic.

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
	SystemOut  string          `xml:"system-out,omitempty"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// junit renders junit.xml.
func junit(v view) ([]byte, error) {
	root := junitSuites{Name: v.Title, Time: "0"}
	for _, s := range v.Scenarios {
		suite := junitSuite{
			Name: s.Name,
			Time: "0",
			Properties: []junitProperty{
				{Name: "simulated_duration", Value: s.Duration.String()},
				{Name: "seeds", Value: fmt.Sprint(s.Seeds)},
				{Name: "clients", Value: fmt.Sprint(len(s.Clients))},
			},
			SystemOut: strings.Join(reading(s), "\n"),
		}
		for _, c := range s.Clients {
			for _, ch := range c.Checks {
				tc := junitCase{
					Name:      c.Name + ": " + ch.Expectation,
					Classname: "kalab." + s.Slug,
					Time:      "0",
				}
				if !ch.Passed {
					tc.Failure = &junitFailure{
						Message: fmt.Sprintf("%s: measured %s, bound %s", ch.Metric, ch.Measured, ch.Bound),
						Type:    "ExpectationFailed",
						Text: fmt.Sprintf("scenario %q, client %q: expectation %q does not hold: measured %s, bound %s",
							s.Name, c.Name, ch.Expectation, ch.Measured, ch.Bound),
					}
					suite.Failures++
				}
				suite.Tests++
				suite.Cases = append(suite.Cases, tc)
			}
		}
		root.Tests += suite.Tests
		root.Failures += suite.Failures
		root.Suites = append(root.Suites, suite)
	}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(root); err != nil {
		return nil, fmt.Errorf("junit.xml: %w", err)
	}
	buf.WriteString("\n")
	return buf.Bytes(), nil
}
