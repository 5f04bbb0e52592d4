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

// The gpiolib conversion's race on the five designs: an accessor takes
// its reference on the chip's provider while gpiochip_remove revokes and
// frees it. The explorer finds the use-after-free on the two designs
// whose reference comes too late.
func Example_gpiolibRace() {
	for _, x := range []struct {
		design string
		run    func(*sim.Sim)
	}{
		{"v3", kernelmodel.V3GPIOLib},
		{"merged", kernelmodel.MergedGPIOLib},
		{"v8", kernelmodel.V8GPIOLib},
		{"v10", kernelmodel.V10GPIOLib},
		{"drvsim", kernelmodel.DrvsimGPIOLib},
	} {
		res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Schedules: 10000}, x.run)
		if res.Failed() {
			fmt.Printf("%-6s %s\n", x.design, res.Failure.Failure.Title)
		} else {
			fmt.Printf("%-6s no failure in %d schedules\n", x.design, res.Schedules)
		}
	}
	// Output:
	// v3     BUG: KASAN: use-after-free in kref_get
	// merged BUG: KASAN: use-after-free in kref_get_unless_zero
	// v8     no failure in 19 schedules
	// v10    no failure in 14 schedules
	// drvsim no failure in 16 schedules
}
