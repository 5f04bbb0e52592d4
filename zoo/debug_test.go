package zoo_test

import (
	"os"
	"strconv"
	"testing"

	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/zoo"
)

func TestDebugHunt(t *testing.T) {
	name := os.Getenv("ZOO_BUG")
	if name == "" {
		t.Skip()
	}
	b, _ := zoo.Lookup(name)
	for _, sc := range []*sim.Scenario{b.Before, b.After} {
		for _, bound := range []int{1, 2} {
			cfg := sc.Config()
			cfg.Schedules = 200000
			cfg.MaxPreemptions = bound
			cfg.Shrink = true
			if v, err := strconv.Atoi(os.Getenv("ZOO_N")); err == nil {
				cfg.Schedules = v
			}
			res := sc.Explore(cfg)
			first := res.String()
			if len(first) > 6000 {
				first = first[:6000]
			}
			t.Logf("%s bound %d: %s", sc.Name, bound, first)
		}
	}
}
