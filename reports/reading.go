package reports

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Thresholds of the plain-language reading: what is worth a sentence.
const (
	notableZombiePerDay = time.Minute      // zombie time per day worth mentioning
	tcpGiveUpLike       = 5 * time.Minute  // a zombie stretch this long means "until TCP gives up"
	notableDisconnects  = 24.0             // disconnects per day worth mentioning (one an hour)
	notableDelayP99     = 30 * time.Second // p99 delivery delay worth mentioning
	maxReadingSentences = 6
	uptimeTieTolerance  = 1e-6
)

// reading returns a few sentences that say in words what the scenario's numbers
// mean: who holds the connection, who goes zombie and for how long, who reconnects
// over and over, whose messages wait. Deterministic: it depends only on the view.
func reading(s scenarioView) []string {
	if len(s.Clients) == 0 {
		return []string{"No client ran in this scenario."}
	}
	var out []string
	total, failed := s.counts()
	switch {
	case total == 0:
	case failed == 0 && total == 1:
		out = append(out, "The expectation holds.")
	case failed == 0 && total == 2:
		out = append(out, "Both expectations hold.")
	case failed == 0:
		out = append(out, fmt.Sprintf("All %d expectations hold.", total))
	default:
		out = append(out, fmt.Sprintf("%d of %d expectations fail.", failed, total))
	}

	// The best client: highest true uptime, then the fewest heartbeats.
	best := 0
	for i, c := range s.Clients {
		b := s.Clients[best]
		if c.TrueUptime > b.TrueUptime+uptimeTieTolerance ||
			(c.TrueUptime >= b.TrueUptime-uptimeTieTolerance && c.HeartbeatsPerDay < b.HeartbeatsPerDay) {
			best = i
		}
	}
	b := s.Clients[best]
	out = append(out, fmt.Sprintf("%s keeps the connection truly up %s of the time with %s heartbeats a day%s.",
		who(b), fmtPercentValue(b.TrueUptime), fmtNumber(b.HeartbeatsPerDay), disconnectsClause(b)))

	for i, c := range s.Clients {
		if i == best {
			continue
		}
		if c.ZombiePerDay >= notableZombiePerDay {
			out = append(out, zombieSentence(c))
		}
		if c.DisconnectsPerDay >= notableDisconnects {
			out = append(out, churnSentence(c))
		}
		if c.HasDelay && c.DelayP99 >= notableDelayP99 && c.ZombiePerDay < notableZombiePerDay {
			out = append(out, fmt.Sprintf("Messages to %s wait up to %s (p99 %s).", c.Name, fmtDuration(c.DelayMax), fmtDuration(c.DelayP99)))
		}
		if len(out) >= maxReadingSentences {
			break
		}
	}
	return out
}

// who names a client with its policy: "seed (presence every 60 s)".
func who(c clientView) string {
	if c.Policy == "" {
		return c.Name
	}
	return c.Name + " (" + c.Policy + ")"
}

func disconnectsClause(c clientView) string {
	switch {
	case c.DisconnectsPerDay == 0:
		return " and no disconnect"
	case c.DisconnectsPerDay < 1.5:
		return fmt.Sprintf(" and %s disconnect a day", fmtNumber(c.DisconnectsPerDay))
	}
	return fmt.Sprintf(" and %s disconnects a day", fmtNumber(c.DisconnectsPerDay))
}

// zombieSentence: "seed (presence every 60 s) leaves the connection dead for
// 14 min at a time, 3 times a day, while believing it is up: it only learns of it
// when TCP gives up."
func zombieSentence(c clientView) string {
	per := c.ZombiePerDay
	if c.ZombieEpisodes >= 1 {
		per = time.Duration(float64(c.ZombiePerDay) / c.ZombieEpisodes)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s leaves the connection dead for %s at a time", who(c), fmtDuration(per))
	if c.ZombieEpisodes >= 1 {
		fmt.Fprintf(&b, ", %s a day (%s in all)", timesWord(c.ZombieEpisodes), fmtDuration(c.ZombiePerDay))
	}
	b.WriteString(" while believing it is connected")
	switch {
	case dominant(c.DetectedBy) == "tcp_timeout" || per >= tcpGiveUpLike:
		b.WriteString(": it cannot notice a blackhole and only learns of it when TCP gives up.")
	default:
		b.WriteString(".")
	}
	return b.String()
}

// churnSentence: "whatsmeow (ping every 30 s) loses the connection 2,880 times a day,
// mostly to idle_timeout:residential: its heartbeat is slower than the path's idle
// timeout."
func churnSentence(c clientView) string {
	cause := dominant(c.CausesPerDay)
	s := fmt.Sprintf("%s loses the connection %s a day", who(c), timesWord(c.DisconnectsPerDay))
	if cause != "" {
		s += ", mostly to " + cause
	}
	if strings.HasPrefix(cause, "idle_timeout") || strings.HasPrefix(cause, "idle") {
		s += ": its heartbeat is slower than the path's idle timeout"
	}
	return s + "."
}

func timesWord(n float64) string {
	switch {
	case n < 1.5:
		return "once"
	case n < 2.5:
		return "twice"
	}
	return fmtNumber(n) + " times"
}

// dominant returns the key with the largest value (ties: the smaller key), or "".
func dominant(m map[string]float64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	best, bv := "", 0.0
	for _, k := range keys {
		if m[k] > bv {
			best, bv = k, m[k]
		}
	}
	return best
}
