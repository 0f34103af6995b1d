package reports

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A strict reading of the common JUnit shape: every attribute CI systems need, and
// nothing but testsuite under testsuites and testcase/properties/system-out under
// testsuite.
type parsedSuites struct {
	XMLName  xml.Name      `xml:"testsuites"`
	Name     string        `xml:"name,attr"`
	Tests    string        `xml:"tests,attr"`
	Failures string        `xml:"failures,attr"`
	Errors   string        `xml:"errors,attr"`
	Time     string        `xml:"time,attr"`
	Suites   []parsedSuite `xml:"testsuite"`
	Other    []anyElement  `xml:",any"`
}

type parsedSuite struct {
	Name     string       `xml:"name,attr"`
	Tests    string       `xml:"tests,attr"`
	Failures string       `xml:"failures,attr"`
	Errors   string       `xml:"errors,attr"`
	Skipped  string       `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Cases    []parsedCase `xml:"testcase"`
	Props    []struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	} `xml:"properties>property"`
	SystemOut string       `xml:"system-out"`
	Other     []anyElement `xml:",any"`
}

type parsedCase struct {
	Name      string `xml:"name,attr"`
	Classname string `xml:"classname,attr"`
	Time      string `xml:"time,attr"`
	Failure   []struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Text    string `xml:",chardata"`
	} `xml:"failure"`
	Other []anyElement `xml:",any"`
}

type anyElement struct{ XMLName xml.Name }

func atoi(t *testing.T, s, what string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	require.NoError(t, err, "%s = %q is not an integer", what, s)
	return n
}

func TestJUnitValid(t *testing.T) {
	res := loadFixture(t)
	out := t.TempDir()
	require.NoError(t, Render(res, out, Options{NoPlots: true}))
	b, err := os.ReadFile(filepath.Join(out, JUnitFile))
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(b, []byte(`<?xml version="1.0" encoding="UTF-8"?>`)), "XML declaration first")

	// Well-formed: a token pass over the whole document.
	dec := xml.NewDecoder(bytes.NewReader(b))
	for {
		_, err := dec.Token()
		if err != nil {
			require.ErrorContains(t, err, "EOF")
			break
		}
	}

	var p parsedSuites
	require.NoError(t, xml.Unmarshal(b, &p))
	assert.Empty(t, p.Other, "only testsuite elements under testsuites")
	require.Len(t, p.Suites, len(res.Scenarios), "one testsuite per scenario")

	wantTests, wantFailures := 0, 0
	for i, s := range res.Scenarios {
		suite := p.Suites[i]
		assert.Equal(t, s.Name, suite.Name)
		assert.Empty(t, suite.Other, "suite %q: unexpected elements", s.Name)
		n, f := 0, 0
		var cases []parsedCase
		for _, c := range s.Clients {
			for _, v := range c.Verdicts {
				n++
				if !v.Passed {
					f++
				}
			}
		}
		cases = suite.Cases
		require.Len(t, cases, n, "suite %q: one testcase per client expectation", s.Name)
		assert.Equal(t, n, atoi(t, suite.Tests, "tests"))
		assert.Equal(t, f, atoi(t, suite.Failures, "failures"))
		assert.Equal(t, 0, atoi(t, suite.Errors, "errors"))
		assert.Equal(t, 0, atoi(t, suite.Skipped, "skipped"))
		_, err := strconv.ParseFloat(suite.Time, 64)
		assert.NoError(t, err, "suite time is a decimal")

		k := 0
		for _, c := range s.Clients {
			for _, v := range c.Verdicts {
				tc := cases[k]
				k++
				assert.Equal(t, c.Name+": "+v.Expectation, tc.Name)
				assert.True(t, strings.HasPrefix(tc.Classname, "kalab."), tc.Classname)
				assert.Empty(t, tc.Other)
				_, err := strconv.ParseFloat(tc.Time, 64)
				assert.NoError(t, err, "testcase time is a decimal")
				if v.Passed {
					assert.Empty(t, tc.Failure, "%s passed", tc.Name)
					continue
				}
				require.Len(t, tc.Failure, 1, "%s failed", tc.Name)
				fl := tc.Failure[0]
				assert.NotEmpty(t, fl.Type)
				// The failure carries the measured value and the bound, with units.
				assert.Contains(t, fl.Message, "measured "+fmtUnit(v.Measured, v.Unit))
				assert.Contains(t, fl.Message, "bound "+opSymbol(v.Op)+" "+fmtUnit(v.Bound, v.Unit))
				assert.Contains(t, fl.Text, v.Expectation)
			}
		}
		wantTests += n
		wantFailures += f
	}
	assert.Equal(t, wantTests, atoi(t, p.Tests, "tests"))
	assert.Equal(t, wantFailures, atoi(t, p.Failures, "failures"))
	assert.Equal(t, res.Failures(), wantFailures)
	assert.Positive(t, wantFailures, "the fixture has failing expectations")
}
