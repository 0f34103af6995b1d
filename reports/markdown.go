package reports

import (
	"fmt"
	"strings"
)

// markdown renders summary.md: the verdicts and comparison tables in GitHub-flavoured
// Markdown, fit to append to a CI job summary ($GITHUB_STEP_SUMMARY).
func markdown(v view) []byte {
	var b strings.Builder
	total, failed := v.counts()
	fmt.Fprintf(&b, "# %s\n\n", mdEscape(v.Title))
	b.WriteString("**" + verdictMark(failed == 0, total) + " " + overallLine(v, total, failed) + "**\n\n")

	b.WriteString("| scenario | verdict | clients | expectations |\n|---|---|--:|---|\n")
	for _, s := range v.Scenarios {
		t, f := s.counts()
		fmt.Fprintf(&b, "| [%s](#%s) | %s | %d | %s |\n", mdEscape(s.Name), mdAnchor(s.Name), verdictWord(s.passed(), t), len(s.Clients), expectationCount(t, f))
	}
	b.WriteString("\n")

	for _, s := range v.Scenarios {
		t, _ := s.counts()
		fmt.Fprintf(&b, "## %s %s\n\n", verdictMark(s.passed(), t), mdEscape(s.Name))
		if s.Description != "" {
			fmt.Fprintf(&b, "%s\n\n", mdEscape(strings.TrimSpace(s.Description)))
		}
		fmt.Fprintf(&b, "%s\n\n", runLine(s))
		b.WriteString("| client | true uptime | zombie/day | disconnects/day | p99 delivery delay | heartbeats/day | verdict |\n")
		b.WriteString("|---|--:|--:|--:|--:|--:|---|\n")
		for _, c := range s.Clients {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n",
				mdEscape(c.Name), fmtPercentValue(c.TrueUptime), fmtDuration(c.ZombiePerDay),
				fmtNumber(c.DisconnectsPerDay), delayCell(c), fmtNumber(c.HeartbeatsPerDay), clientVerdict(c))
		}
		b.WriteString("\n")
		var fails []string
		for _, c := range s.Clients {
			for _, ch := range c.Checks {
				if !ch.Passed {
					fails = append(fails, fmt.Sprintf("- %s: `%s` — measured %s, bound %s", mdEscape(c.Name), ch.Expectation, ch.Measured, ch.Bound))
				}
			}
		}
		if len(fails) > 0 {
			b.WriteString("**Failed expectations**\n\n" + strings.Join(fails, "\n") + "\n\n")
		}
		if r := reading(s); len(r) > 0 {
			fmt.Fprintf(&b, "> %s\n\n", mdEscape(strings.Join(r, " ")))
		}
	}
	return []byte(strings.TrimRight(b.String(), "\n") + "\n")
}

// overallLine states the verdict of the whole run in words.
func overallLine(v view, total, failed int) string {
	sf := 0
	for _, s := range v.Scenarios {
		if !s.passed() {
			sf++
		}
	}
	switch {
	case total == 0:
		return fmt.Sprintf("%d scenarios ran; none states an expectation.", len(v.Scenarios))
	case failed == 0:
		return fmt.Sprintf("All %d expectations hold in %d scenarios.", total, len(v.Scenarios))
	}
	return fmt.Sprintf("%d of %d expectations failed, in %d of %d scenarios.", failed, total, sf, len(v.Scenarios))
}

// runLine says what was run: "24 h simulated × 3 seeds per client."
func runLine(s scenarioView) string {
	seeds := "1 seed"
	if s.Seeds != 1 {
		seeds = fmt.Sprintf("%d seeds", s.Seeds)
	}
	return fmt.Sprintf("%s simulated × %s per client.", fmtDuration(s.Duration), seeds)
}

func delayCell(c clientView) string {
	if !c.HasDelay {
		return "–"
	}
	return fmtDuration(c.DelayP99)
}

// clientVerdict: "pass", "fail (1 of 2)" or "–" without expectations.
func clientVerdict(c clientView) string {
	t, f := 0, 0
	for _, ch := range c.Checks {
		t++
		if !ch.Passed {
			f++
		}
	}
	switch {
	case t == 0:
		return "–"
	case f == 0:
		return "✅ pass"
	}
	return fmt.Sprintf("❌ fail (%d of %d)", f, t)
}

func verdictMark(passed bool, total int) string {
	switch {
	case total == 0:
		return "➖"
	case passed:
		return "✅"
	}
	return "❌"
}

func verdictWord(passed bool, total int) string {
	switch {
	case total == 0:
		return "➖ no expectations"
	case passed:
		return "✅ pass"
	}
	return "❌ fail"
}

func expectationCount(total, failed int) string {
	switch {
	case total == 0:
		return "none"
	case failed == 0:
		return fmt.Sprintf("%d hold", total)
	}
	return fmt.Sprintf("%d of %d failed", failed, total)
}

// mdEscape escapes the characters that would break a table cell or start markup.
func mdEscape(s string) string {
	r := strings.NewReplacer("|", `\|`, "\n", " ", "*", `\*`, "_", `\_`, "<", "&lt;", ">", "&gt;", "`", "\\`")
	return r.Replace(s)
}

// mdAnchor returns the anchor GitHub generates for a heading "✅ name": lower case,
// spaces to dashes, punctuation dropped, the leading mark's dash kept.
func mdAnchor(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return "-" + b.String()
}
