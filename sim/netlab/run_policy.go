package netlab

import (
	"reflect"
	"time"

	"github.com/kalab-dev/kalab/keepalive"
)

var durationType = reflect.TypeOf(time.Duration(0))

// ScalePolicy returns cfg with its defaults applied and every time.Duration field
// (nested ones included) divided by scale, so the engine runs the same policy in
// compressed time. Counts, factors and fractions are unchanged; a zero duration
// (meaning "off" once defaults are applied) stays zero.
func ScalePolicy(cfg keepalive.Config, scale float64) keepalive.Config {
	cfg.ApplyDefaults()
	scaleDurations(reflect.ValueOf(&cfg).Elem(), scale)
	return cfg
}

func scaleDurations(v reflect.Value, scale float64) {
	switch {
	case v.Type() == durationType:
		if d := time.Duration(v.Int()); d > 0 {
			v.SetInt(int64(max(scaled(d, scale), time.Microsecond)))
		}
	case v.Kind() == reflect.Struct:
		for i := range v.NumField() {
			if f := v.Field(i); f.CanSet() {
				scaleDurations(f, scale)
			}
		}
	}
}
