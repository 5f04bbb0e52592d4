package scenario

import (
	"errors"
	"fmt"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/drivers/sensor"
	"github.com/drvsim/drvsim/sim"
)

// Rig is one machine with the sensor module of a variant loaded and
// platform device "sensor" bound: /dev/sensor0 exists.
type Rig struct {
	Sys  *drvsim.System
	Mod  *sensor.Module
	PDev *device.Device
}

// NewRig builds a rig for variant v on sys; Close closes sys.
func NewRig(v sensor.Variant, sys *drvsim.System) (*Rig, error) {
	r := &Rig{Sys: sys}
	var err error
	if r.Mod, err = sensor.Init(sys, v); err != nil {
		sys.Close()
		return nil, err
	}
	r.PDev = sys.NewPlatformDevice("sensor")
	if err := sys.RegisterDevice(r.PDev); err != nil {
		sys.Close()
		return nil, err
	}
	if r.PDev.Drvdata() == nil {
		sys.Close()
		return nil, fmt.Errorf("sensor: %s not bound", v)
	}
	return r, nil
}

// Close closes the rig's System.
func (r *Rig) Close() { r.Sys.Close() }

// ReadVsUnbind is the race of a read of an open /dev/sensor0 with the
// unbind of its device. The file is opened in setup; task "reader" reads
// it (data, or -ENODEV once the device is gone) and closes it; task
// "unbind" unregisters the platform device (the driver's remove deletes
// the cdev and the node, then devres frees what the probe allocated), then
// checks that the node is gone (-ENOENT) and the number unmapped (-ENXIO).
// The Sim checks every access for use after free and every allocation for
// a leak.
type ReadVsUnbind struct {
	// Variant is the driver under test.
	Variant sensor.Variant
	runs    drvsim.Runs // the Systems of the runs so far
}

// Scenario sets up one run on s. Call Close after the run(s).
func (sc *ReadVsUnbind) Scenario(s *sim.Sim) {
	r, err := NewRig(sc.Variant, sc.runs.System(s))
	if err != nil {
		panic(err)
	}
	f, err := chardev.Open(r.Sys, sensor.Node)
	if err != nil {
		panic(err)
	}
	s.Go("reader", func() {
		if _, err := f.Read(4); err != nil && !errors.Is(err, chardev.ErrNoDevice) {
			panic(fmt.Sprintf("read: want data or -ENODEV, got %v", err))
		}
		if err := f.Close(); err != nil {
			panic(err)
		}
	})
	s.Go("unbind", func() {
		if err := r.Sys.UnregisterDevice(r.PDev); err != nil {
			panic(err)
		}
		if _, err := chardev.Open(r.Sys, sensor.Node); !errors.Is(err, chardev.ErrNoEntry) {
			panic(fmt.Sprintf("open after unbind: want -ENOENT, got %v", err))
		}
		if _, err := chardev.OpenDevt(r.Sys, r.Mod.Devt()); !errors.Is(err, chardev.ErrNoDeviceOrAddress) {
			panic(fmt.Sprintf("open by number after cdev_del: want -ENXIO, got %v", err))
		}
	})
}

// Close closes the Systems of past runs.
func (sc *ReadVsUnbind) Close() {
	sc.runs.Close()
}

// scenarios are the registered ReadVsUnbind scenarios, one per driver.
var scenarios = []struct {
	v     sensor.Variant
	want  sim.BugKind
	about string
}{
	{sensor.Refcounted, "",
		"A read of /dev/sensor0 races the unbind of its device; the driver's struct embeds the cdev and is " +
			"freed by its class device's release (cdev_device_add), after the last file: every schedule is clean."},
	{sensor.Revocable, "",
		"The same race with a cdev_alloc'ed cdev and every file operation inside a revocable consumer's " +
			"read section: every schedule is clean."},
	{sensor.Drain, "",
		"The same race with the cdev embedded in devm memory, but file operations under active references " +
			"(chardev.Active) that cdev_del revokes: it waits for the read, releases the file and detaches it " +
			"from the cdev before devres frees the struct. Every schedule is clean."},
	{sensor.DevmCdev, sim.BugUseAfterFree,
		"The classic bug: the struct embedding the cdev is devm-allocated, freed at unbind while the file " +
			"is open; the file's last fput runs cdev_put on it: a use-after-free."},
}

// Scenarios returns the sensor scenarios, in variant order, explored
// exhaustively within three preemptions per schedule by default. Package
// scenarios registers them; `drvsim explore NAME` runs them.
func Scenarios() []sim.Scenario {
	out := make([]sim.Scenario, len(scenarios))
	for i, sc := range scenarios {
		v := sc.v
		out[i] = sim.Scenario{
			Name:        string(v),
			Under:       string(v) + " driver",
			Description: sc.about,
			Want:        sim.Prediction{Bug: sc.want},
			Defaults:    sim.Settings{Mode: sim.Exhaustive, MaxPreemptions: 3, Schedules: 20000},
			New: func() sim.Setup {
				r := &ReadVsUnbind{Variant: v}
				return sim.Setup{Run: r.Scenario, Close: r.Close}
			},
		}
	}
	return out
}

// ScenarioOf returns the registered scenario of variant v.
func ScenarioOf(v sensor.Variant) sim.Scenario {
	for _, sc := range Scenarios() {
		if sc.Name == string(v) {
			return sc
		}
	}
	panic("sensor scenario: no variant " + string(v))
}
