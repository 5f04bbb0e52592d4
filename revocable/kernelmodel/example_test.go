package kernelmodel_test

import (
	"fmt"

	"github.com/drvsim/drvsim/revocable/kernelmodel"
	"github.com/drvsim/drvsim/sim"
)

// The copied-provider experiment on two designs: open() copies the
// provider pointer into the file, unbind revokes it, and a read uses the
// copy. Exploring every interleaving of the merged (and reverted) kernel
// design finds the use-after-free in revocable_init's
// kref_get_unless_zero; drvsim's refcounted provider survives them all.
// This is what `drvsim explore NAME` runs.
func ExampleLookup() {
	for _, name := range []string{"merged-copied-provider", "drvsim-copied-provider"} {
		sc, ok := kernelmodel.Lookup(name)
		if !ok {
			panic("no scenario " + name)
		}
		res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Schedules: 10000}, sc.Run)
		fmt.Printf("%s (design %s):\n", sc.Name, sc.Design)
		if res.Failed() {
			r := res.Failure.Failure
			fmt.Printf("  %s, expected %s\n", r.Kind, sc.Want)
			fmt.Printf("  %s (task %s)\n", r.Title, r.Task)
		} else {
			fmt.Println("  no failure; every interleaving explored:", res.Exhausted)
		}
	}
	// Output:
	// merged-copied-provider (design merged):
	//   use-after-free, expected use-after-free
	//   BUG: KASAN: use-after-free in kref_get_unless_zero (task read)
	// drvsim-copied-provider (design drvsim):
	//   no failure; every interleaving explored: true
}
