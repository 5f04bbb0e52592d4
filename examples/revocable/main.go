// Command revocable shows package revocable on its own, without the driver
// core: a provider owns a resource that may disappear, consumers reach it
// only through short read sections, and a revoke waits for the readers
// already inside before the resource is freed.
//
// The resource is the register window of an embedded controller (think
// /dev/cros_ec). Two files have it open. A process is in the middle of a
// long EC command when the controller goes away:
//
//  1. revocable_provider_alloc, and two revocable_init: the provider and
//     one consumer per open file.
//  2. revocable_try_access / revocable_release, and a scoped form (OrReturn).
//  3. revocable_provider_revoke while a reader is inside its section: the
//     revoke publishes nil and waits (synchronize_srcu) until the reader
//     leaves; only then is the register window freed.
//  4. After the revoke: TryAccess sees nil, OrReturn returns ErrRevoked, a new
//     open fails, and the last close releases the provider.
//
// The interleaving in step 3 is chosen by the deterministic scheduler of
// package sim, so the output is the same on every run; the registers are a
// simulated allocation, so a read after the free would be reported, KASAN
// style.
//
// Run it with:
//
//	go run ./examples/revocable
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/revocable"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/trace"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// ec is the revocable resource: the controller and its register window.
type ec struct {
	name string
	// regs stands for the ioremap'ed registers: a simulated allocation
	// that every access checks.
	regs *env.Object
}

// seed picks the schedule. Any seed gives a correct run (that is the
// point of revocable); this one is replayed on every run of the example.
const seed = 1

func run(w io.Writer) error {
	res := sim.Run(sim.Config{Seed: seed}, scenario)

	// The whole trace of the run: the narration ("say"), the provider's
	// and consumers' lifecycle, the grace period, the allocation and the
	// free, and every switch between tasks ("schedule"), each event
	// stamped with the task that recorded it.
	fmt.Fprint(w, res.TraceText())
	fmt.Fprint(w, res) // the outcome: passed, or the sanitizer's report
	if res.Failed() {
		return errors.New("revocable: the run failed")
	}
	return nil
}

// scenario is one run of the story on the simulated machine s. The code
// before the first s.Go is setup: it runs first, alone. Then the two tasks
// run, one at a time, switching only at schedule points.
func scenario(s *sim.Sim) {
	say := func(msg string) {
		s.Log().Emit(trace.Event{Kind: trace.Note, Func: "say", Msg: msg})
	}

	// 1. The driver's probe maps the registers (ioremap) and creates the
	//    provider: revocable_provider_alloc, in the run's environment: its
	//    read sections and its grace period are schedule points of s.
	say("1. probe: map the EC registers and publish them through a provider")
	dev := &ec{name: "cros-ec", regs: s.Alloc("cros_ec registers")}
	prov := revocable.NewProvider(s, dev, revocable.WithName("cros_ec"))

	// Two processes open /dev/cros_ec: each open file gets a consumer
	// handle (revocable_init), which holds a reference on the provider.
	say("two processes open /dev/cros_ec: one consumer each")
	fileA, err := revocable.New(prov)
	if err != nil {
		panic(err)
	}
	fileB, err := revocable.New(prov)
	if err != nil {
		panic(err)
	}

	// 2. Reading. The explicit form: revocable_try_access returns the
	//    resource (or nil once revoked) and opens a read section, which
	//    must be left with revocable_release in both cases.
	if e, a := fileA.TryAccess(); e != nil {
		e.regs.Access("read EC_CMD_GET_VERSION")
		say("2. file A: TryAccess -> " + e.name + ", version read; Release")
		a.Release()
	} else {
		a.Release()
	}
	// A scoped form: OrReturn leaves the section on every path.
	err = fileB.OrReturn(func(e *ec) error {
		e.regs.Access("read EC_CMD_GET_FEATURES")
		say("file B: OrReturn -> " + e.name + ", features read")
		return nil
	})
	say(fmt.Sprintf("file B: OrReturn returned %v", err))

	// 3. A long EC command in file A races the controller's removal.
	inside := kernel.NewCompletion(s, "reader inside")
	gone := kernel.NewCompletion(s, "EC removed")

	s.Go("reader", func() {
		e, a := fileA.TryAccess() // enter the section: the EC is there
		if e == nil {
			panic("the EC cannot be gone yet")
		}
		say("3. reader: inside the section, EC command sent, waiting for the answer")
		inside.Complete()
		s.CondResched("EC command in progress") // the remover runs now

		// Still inside: the revoke is waiting for us, so the registers
		// are still mapped.
		e.regs.Access("read EC response")
		say("reader: answer read; Release")
		a.Release()

		// 4. After the removal: the same handle sees nil ...
		gone.Wait()
		e, a = fileA.TryAccess()
		say(fmt.Sprintf("4. reader: TryAccess after the revoke -> %v", e))
		a.Release()
		// ... and OrReturn says why: the kernel's -ENODEV.
		err := fileA.OrReturn(func(*ec) error { panic("not called once revoked") })
		say(fmt.Sprintf("reader: OrReturn after the revoke -> %v", err))

		// The processes exit: the last close releases the provider.
		say("both files are closed")
		if err := fileA.Close(); err != nil {
			panic(err)
		}
		if err := fileB.Close(); err != nil {
			panic(err)
		}
	})

	s.Go("remove", func() {
		inside.Wait() // the controller goes away while the reader is inside
		say("remove: the EC is going away: revocable_provider_revoke")
		prov.Revoke() // publish nil, then wait for the readers inside
		say("remove: revoke returned: no reader can reach the registers; iounmap")
		dev.regs.Free()

		// A new open after the removal fails.
		_, err := revocable.New(prov)
		say(fmt.Sprintf("remove: a new open -> %v", err))
		gone.Complete()
	})
}
