package main

import (
	"fmt"
	"io"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/trace"
)

// board is the simulated hardware around the ECs: a clock, interrupt
// lines, and memory the EC registers are mapped into. The memory is
// checked like KASAN checks the kernel's: touching the registers after
// iounmap is reported as a use-after-free.
type board struct {
	mem  *env.Memory
	mute map[string]bool // ECs that do not answer the handshake

	clkUsers, irqs int // what is switched on now

	// Set by steps 3 and 4.
	busy      func(cmd string)       // called while the EC works on a command
	providers map[string]*ecProvider // what open() finds, by device name
}

func newBoard(sys *drvsim.System) *board {
	mem := sys.Memory()     // the machine's memory: KASAN-checked
	mem.SetPanicOnBug(true) // outside a simulation a use-after-free panics
	return &board{mem: mem, mute: map[string]bool{}, providers: map[string]*ecProvider{}}
}

// ec is the driver's state for one EC: what a C driver would kzalloc in
// probe and keep in drvdata.
type ec struct {
	b    *board
	regs *env.Object // the mapped registers: every use goes through Access
}

// xfer sends cmd to the EC and reads its answer through the registers.
func (e *ec) xfer(cmd string) string {
	e.regs.Access("ec_xfer write " + cmd)
	if e.b.busy != nil {
		e.b.busy(cmd) // the EC takes its time
	}
	e.regs.Access("ec_xfer read " + cmd)
	return cmd + ": ok"
}

// setup is the body of the driver's probe. Every step that acquires
// something registers, right away, the devres action that undoes it; there
// is no error path and no remove: if a later step fails, or when the device
// is unbound, the driver core runs the actions newest first.
func (b *board) setup(dev *device.Device) (*ec, error) {
	res := dev.Devres()

	b.clkUsers++ // clk_prepare_enable
	if _, err := res.AddOrReset("clk_disable_unprepare", func() { b.clkUsers-- }); err != nil {
		return nil, err
	}
	b.irqs++ // request_irq
	if _, err := res.AddOrReset("free_irq", func() { b.irqs-- }); err != nil {
		return nil, err
	}
	e := &ec{b: b, regs: b.mem.Alloc(dev.Name() + " registers")} // ioremap
	if _, err := res.AddOrReset("iounmap", e.regs.Free); err != nil {
		return nil, err
	}
	if b.mute[dev.Name()] { // the handshake: the EC must answer
		return nil, fmt.Errorf("%s: no answer to the handshake: %w", dev.Name(), device.ErrIO)
	}
	e.xfer("hello")
	dev.SetDrvdata(e)
	return e, nil
}

// Step 2: managed resources. Two ECs; ec.1 does not answer, so its probe
// fails after three devm actions: they run newest first and the device
// stays unbound. ec.0 binds; unbinding it runs its actions, newest first.
func step2(w io.Writer) error {
	sys := drvsim.NewSystem()
	defer sys.Close()
	b := newBoard(sys)
	b.mute["ec.1"] = true

	probe := func(dev *device.Device) error { _, err := b.setup(dev); return err }
	if err := sys.RegisterDriver(platform.NewDriver("ec", probe, nil)); err != nil {
		return err
	}
	var devs []*device.Device
	for _, name := range []string{"ec.0", "ec.1"} {
		dev := sys.NewPlatformDevice(name)
		if err := sys.RegisterDevice(dev); err != nil { // a failed probe is not an error here
			return err
		}
		fmt.Fprintf(w, "%s: state=%s driver=%q\n", name, dev.State(), dev.DriverName())
		devs = append(devs, dev)
	}
	if err := sys.Unbind(devs[0]); err != nil { // echo ec.0 > .../drivers/ec/unbind
		return err
	}
	fmt.Fprintf(w, "ec.0 unbound: state=%s\n", devs[0].State())
	fmt.Fprintf(w, "left on: clock users=%d irqs=%d mapped=%d\n", b.clkUsers, b.irqs, len(b.mem.Live()))
	fmt.Fprint(w, trace.Text(trace.Filter(sys.Events(), trace.OfKind(
		trace.ProbeStart, trace.ProbeResult, trace.DevresAdd, trace.DevresRelease, trace.Unbind, env.Mem))))
	return nil
}
