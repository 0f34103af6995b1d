package sweep

import (
	"fmt"
	"slices"
	"time"

	"github.com/kalab-dev/kalab/keepalive"
	"github.com/kalab-dev/kalab/reports"
)

// Cell summarises one cell of a sweep (a strategy at an interval on a path) over
// its seeds.
type Cell struct {
	// Path is the path's compact text; Strategy and Interval define the cell.
	Path     string
	Strategy keepalive.Strategy
	Interval time.Duration
	// Seeds is the number of runs summarised.
	Seeds int
	// TrueUptimeMin is the worst seed's true uptime (0..1); TrueUptimeMean the mean.
	TrueUptimeMin  float64
	TrueUptimeMean float64
	// IdleDisconnects is the most idle-timeout disconnects any seed saw.
	IdleDisconnects int
	// DisconnectsPerDay, HeartbeatsPerDay, BytesPerDay and PresencePerDay are means
	// over the seeds, per simulated day.
	DisconnectsPerDay float64
	HeartbeatsPerDay  float64
	BytesPerDay       float64
	PresencePerDay    float64
	// ZombieTime is the mean time the client believed it was connected and was not.
	ZombieTime time.Duration
	// Safe: every seed reached the sweep's safe uptime with no idle-timeout
	// disconnect.
	Safe bool
}

// Cells summarises every cell of sweep results, in results order.
func Cells(res *reports.Results) ([]Cell, error) {
	if res == nil || res.Sweep == nil {
		return nil, fmt.Errorf("sweep: results hold no sweep section")
	}
	safe := res.Sweep.SafeUptime
	if safe == 0 {
		safe = DefaultSafeUptime
	}
	var out []Cell
	for _, s := range res.Scenarios {
		for _, c := range s.Clients {
			out = append(out, summarise(s.Name, c, safe))
		}
	}
	return out, nil
}

// summarise reduces one client's runs to a Cell.
func summarise(path string, c reports.Client, safeUptime float64) Cell {
	cell := Cell{Path: path, Strategy: c.Config.Strategy, Interval: c.Config.Interval, Seeds: len(c.Runs), Safe: len(c.Runs) > 0}
	var zombie time.Duration
	for i, r := range c.Runs {
		if i == 0 || r.TrueUptime < cell.TrueUptimeMin {
			cell.TrueUptimeMin = r.TrueUptime
		}
		cell.TrueUptimeMean += r.TrueUptime
		cell.IdleDisconnects = max(cell.IdleDisconnects, r.IdleDisconnects)
		cell.DisconnectsPerDay += r.DisconnectsPerDay
		cell.HeartbeatsPerDay += r.HeartbeatsPerDay
		cell.BytesPerDay += r.BytesPerDay
		cell.PresencePerDay += r.PresencePerDay
		zombie += r.ZombieTime
		cell.Safe = cell.Safe && r.TrueUptime >= safeUptime && r.IdleDisconnects == 0
	}
	if n := float64(len(c.Runs)); n > 0 {
		cell.TrueUptimeMean /= n
		cell.DisconnectsPerDay /= n
		cell.HeartbeatsPerDay /= n
		cell.BytesPerDay /= n
		cell.PresencePerDay /= n
		cell.ZombieTime = zombie / time.Duration(len(c.Runs))
	}
	return cell
}

// Curve names the curve a cell belongs to in plots and tables: the path, and the
// strategy when the sweep has more than one ("nginx / presence").
func Curve(c Cell, strategies int) string {
	if strategies > 1 {
		return c.Path + " / " + string(c.Strategy)
	}
	return c.Path
}

// SafeMax returns the largest interval up to which every swept interval is safe
// for every curve among cells; ok is false when the smallest interval already
// fails somewhere.
func SafeMax(cells []Cell) (time.Duration, bool) {
	byIv := map[time.Duration]bool{}
	var ivs []time.Duration
	for _, c := range cells {
		s, seen := byIv[c.Interval]
		if !seen {
			ivs = append(ivs, c.Interval)
			s = true
		}
		byIv[c.Interval] = s && c.Safe
	}
	slices.Sort(ivs)
	var hi time.Duration
	ok := false
	for _, iv := range ivs {
		if !byIv[iv] {
			break
		}
		hi, ok = iv, true
	}
	return hi, ok
}
