package toy_test

import (
	"fmt"
	"testing"

	"github.com/drvsim/drvsim/internal/raceexit"
	"go.uber.org/goleak"

	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/sim/toy"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

// Exhaustive search finds each toy's bug.
func Example() {
	for _, sc := range []struct {
		name string
		run  func(*sim.Sim)
	}{{"RacyDriver", toy.RacyDriver}, {"ABBA", toy.ABBA}} {
		res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive}, sc.run)
		fmt.Printf("%s: %s\n", sc.name, res.Failure.Failure.Title)
	}
	sw := sim.SweepFaults(sim.Config{}, toy.ProbeXY(nil))
	fmt.Println("ProbeXY:", sw.Failed())
	// Output:
	// RacyDriver: BUG: KASAN: use-after-free in read
	// ABBA: BUG: deadlock: 2 tasks blocked forever
	// ProbeXY: true
}
