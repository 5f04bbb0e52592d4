package scenario

import (
	"errors"
	"fmt"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/drivers/sensor"
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/sim"
)

// OpenAcrossUnbind is the demo's story on one driver, run once on the
// schedule without preemptions: a process opens /dev/sensor0 and reads;
// the device is unbound (task "unbind"); the process reads again and
// closes the file. Its results are those of the reads and the close.
type OpenAcrossUnbind struct {
	// Result is the run: its trace, and its failure if the sanitizer
	// reported one.
	Result *sim.Result
	// FirstErr, SecondErr and CloseErr are what the process got.
	FirstErr, SecondErr, CloseErr error
}

// RunOpenAcrossUnbind runs the story on variant v.
func RunOpenAcrossUnbind(v sensor.Variant) (*OpenAcrossUnbind, error) {
	st := &OpenAcrossUnbind{}
	var rigs []*Rig
	defer func() {
		for _, r := range rigs {
			r.Close()
		}
	}()
	var setupErr error
	st.Result = sim.Run(sim.Config{Test: "TestOpenAcrossUnbind", Pkg: "./drivers/sensor/scenario"}, func(s *sim.Sim) {
		r, err := NewRig(v, drvsim.NewSystem(drvsim.OnSim(s)))
		if err != nil {
			setupErr = err
			return
		}
		rigs = append(rigs, r)
		read, unbound := false, false
		s.Go("process", func() {
			f, err := chardev.Open(r.Sys, sensor.Node)
			if err != nil {
				panic(fmt.Sprintf("open: %v", err))
			}
			_, st.FirstErr = f.Read(4)
			read = true
			s.Block(sched.Wait{What: "the device is unbound"}, func() bool { return unbound })
			_, st.SecondErr = f.Read(4)
			st.CloseErr = f.Close()
		})
		s.Go("unbind", func() {
			s.Block(sched.Wait{What: "the process has read"}, func() bool { return read })
			if err := r.Sys.UnregisterDevice(r.PDev); err != nil {
				panic(err)
			}
			unbound = true
		})
	})
	if setupErr != nil {
		return nil, setupErr
	}
	if !st.Result.Failed() && (st.FirstErr != nil || !errors.Is(st.SecondErr, chardev.ErrNoDevice)) {
		return nil, fmt.Errorf("%s: first read %v, read after unbind %v", v, st.FirstErr, st.SecondErr)
	}
	return st, nil
}
