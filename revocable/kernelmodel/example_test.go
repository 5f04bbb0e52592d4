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
// `drvsim explore merged-copied-provider` and `drvsim explore
// drvsim-copied-provider` run the same experiments from the registry.
func Example_copiedProvider() {
	for _, x := range []struct {
		design string
		run    func(*sim.Sim)
	}{
		{"merged", kernelmodel.MergedCopiedProvider},
		{"drvsim", kernelmodel.DrvsimCopiedProvider},
	} {
		res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Schedules: 10000}, x.run)
		fmt.Printf("%s design:\n", x.design)
		if res.Failed() {
			r := res.Failure.Failure
			fmt.Printf("  %s: %s (task %s)\n", r.Kind, r.Title, r.Task)
		} else {
			fmt.Println("  no failure; every interleaving explored:", res.Exhausted)
		}
	}
	// Output:
	// merged design:
	//   use-after-free: BUG: KASAN: use-after-free in kref_get_unless_zero (task read)
	// drvsim design:
	//   no failure; every interleaving explored: true
}
