package reports

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// Thresholds of the plain-language reading: what is worth a sentence.
const (
	notableZombiePerDay  = time.Minute      // zombie time per day worth mentioning
	notableZombieStretch = 5 * time.Second  // and the mean stretch it must last
	goodUptime           = 0.999            // the true uptime a best client is praised for
	tcpGiveUpLike        = 5 * time.Minute  // a zombie stretch this long means "until TCP gives up"
	notableDisconnects   = 24.0             // disconnects per day worth mentioning (one an hour)
	notableDelayP99      = 30 * time.Second // p99 delivery delay worth mentioning
	maxReadingSentences  = 6
	uptimeTieTolerance   = 1e-6
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
	if b.TrueUptime >= goodUptime {
		out = append(out, fmt.Sprintf("%s keeps the connection truly up %s of the time with %s heartbeats a day%s.",
			who(b), fmtPercentValue(b.TrueUptime), fmtNumber(b.HeartbeatsPerDay), disconnectsClause(b)))
	} else {
		out = append(out, fmt.Sprintf("No client stays truly up %s of the time; the best, %s, manages %s with %s heartbeats a day%s.",
			fmtPercentValue(goodUptime), who(b), fmtPercentValue(b.TrueUptime), fmtNumber(b.HeartbeatsPerDay), disconnectsClause(b)))
	}

	for i, c := range s.Clients {
		if i == best {
			continue
		}
		zombie := zombieNotable(c)
		churn := c.DisconnectsPerDay >= notableDisconnects
		switch {
		case zombie && churn:
			out = append(out, churnZombieSentence(c))
		case zombie:
			out = append(out, zombieSentence(c))
		case churn:
			out = append(out, churnSentence(c))
		case c.HasDelay && c.DelayP99 >= notableDelayP99:
			out = append(out, fmt.Sprintf("Messages to %s wait up to %s (p99 %s).", c.Name, fmtDuration(c.DelayMax), fmtDuration(c.DelayP99)))
		}
		if len(out) >= maxReadingSentences {
			break
		}
	}
	return out
}

// zombieNotable: enough zombie time a day, in stretches long enough to matter
// (a 25 ms window between a close and its FIN arriving is not worth a sentence).
func zombieNotable(c clientView) bool {
	return c.ZombiePerDay >= notableZombiePerDay && zombieStretch(c) >= notableZombieStretch
}

// zombieStretch is the mean length of one zombie stretch.
func zombieStretch(c clientView) time.Duration {
	if c.ZombieEpisodes >= 1 {
		return time.Duration(float64(c.ZombiePerDay) / c.ZombieEpisodes)
	}
	return c.ZombiePerDay
}

// churnZombieSentence: "presence-6m (presence every 6 min) loses the connection 125
// times a day, mostly to idle_timeout:aws-nlb, and stays dead for 10 s each time
// while believing it is connected (21 min a day in all)."
func churnZombieSentence(c clientView) string {
	s := fmt.Sprintf("%s loses the connection %s a day", who(c), timesWord(c.DisconnectsPerDay))
	if cause := dominant(c.CausesPerDay); cause != "" {
		s += ", mostly to " + cause + ","
	}
	s += fmt.Sprintf(" and stays dead for %s at a time while believing it is connected (%s a day in all)", fmtDuration(zombieStretch(c)), fmtDuration(c.ZombiePerDay))
	if blackholeBlind(c) {
		s += ": it cannot notice a blackhole and only learns of it when TCP gives up"
	}
	return s + "."
}

// blackholeBlind: the client learns of dead connections mostly from TCP giving up,
// or its zombie stretches are as long as that takes.
func blackholeBlind(c clientView) bool {
	return dominant(c.DetectedBy) == "tcp_timeout" || zombieStretch(c) >= tcpGiveUpLike
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
	per := zombieStretch(c)
	var b strings.Builder
	fmt.Fprintf(&b, "%s leaves the connection dead for %s at a time", who(c), fmtDuration(per))
	if c.ZombieEpisodes >= 1 {
		fmt.Fprintf(&b, ", %s a day (%s in all)", timesWord(c.ZombieEpisodes), fmtDuration(c.ZombiePerDay))
	}
	b.WriteString(" while believing it is connected")
	if blackholeBlind(c) {
		b.WriteString(": it cannot notice a blackhole and only learns of it when TCP gives up")
	}
	b.WriteString(".")
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
	case n >= 10:
		return thousands(int64(math.Round(n))) + " times"
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
