// Package drvsim models the Linux driver model in-process: buses, devices,
// drivers, probe and remove, devres, device links and deferred probe, with
// a typed event trace, for teaching, prototyping and deterministic
// lifecycle tests.
//
// A System is one simulated machine, and NewSystem is the one way to build
// it: the plain environment of real goroutines by default, or on the
// deterministic simulator with OnSim. It embeds the driver core (bus.Core),
// so every core operation is a System method, and registers a platform bus
// (System.Platform) at creation. Subsystems attach to it
// (usbsim.Init(sys), drmsim.NewClass(sys)), and everything a driver creates
// for its device (locks, providers, work, memory) takes the machine's
// environment from the device:
//
//	sys := drvsim.NewSystem()
//	defer sys.Close()
//	drv := platform.NewDriver("uart", probe, remove)
//	err := sys.RegisterDriver(drv)                    // driver_register
//	dev := sys.NewPlatformDevice("uart")
//	err = sys.RegisterDevice(dev)                      // device_register: binds
//	fmt.Print(sys.Log())                               // the trace
//	err = sys.UnregisterDevice(dev)                    // device_unregister
package drvsim

import (
	"time"

	"github.com/drvsim/drvsim/bus"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/driver"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/trace"
)

// System is one simulated machine: its environment (trace log, scheduler,
// memory, clock, lockdep), its buses, devices and drivers, its
// deferred-probe lists and its async-probe worker. Systems share nothing:
// two in one test do not see each other. Call Close when done; no goroutine
// outlives it.
//
// The drivers a System runs may be buggy: a driver callback that panics is
// an oops (a trace event, a report, an error matching ErrOops) and the
// machine goes on; a callback or a wait blocked past the hung-task timeout
// is reported with its wait-for chain (docs/lifecycle.md, "Oops" and "Hangs
// and livelocks").
type System struct {
	*bus.Core
	// Platform is the System's platform bus (platform_bus_type).
	Platform *bus.Bus
}

// Option configures NewSystem.
type Option func(*config)

type config struct {
	sim        *sim.Sim
	lockdep    *bool
	traceLimit *int
	envOpts    []env.Option
}

// OnSim builds the machine on the simulated run s: it records into the
// run's trace, every schedule point of the core, its devices and
// everything created for them is one of s, asynchronous probes run as
// tasks of s, memory comes from the run's arena (its use-after-free
// reports fail the run) and time is the run's virtual clock. Build the
// System inside the scenario function, once per run. Such a System
// starts no goroutine of its own (its asynchronous probes, workers, timers
// and interrupts are tasks of s, which end with the run), so the scenario
// need not Close it.
func OnSim(s *sim.Sim) Option { return func(c *config) { c.sim = s } }

// WithLockdep turns lockdep on (the default) or off for the machine: the
// device lock's and the kernel library's owner checks, sleeping in atomic
// context, a revoke from inside its own read section. Off, misuse hangs
// or goes unseen, as on a kernel without CONFIG_PROVE_LOCKING. A machine
// on a simulator takes the simulator's setting (sim.Config.NoLockdep);
// asking for another panics.
func WithLockdep(on bool) Option { return func(c *config) { c.lockdep = &on } }

// WithTraceLimit bounds the trace log to the newest n events (trace.Log
// SetLimit); 0 keeps every event. The default is DefaultTraceLimit for a
// machine of its own; a machine on a simulator keeps the run's whole trace
// unless told otherwise.
func WithTraceLimit(n int) Option { return func(c *config) { c.traceLimit = &n } }

// DefaultTraceLimit is the number of newest trace events a System keeps by
// default: far more than any documented trace or test scenario records, so
// those stay whole and byte-for-byte the same, while a long-running
// machine's log stays bounded (a few megabytes; under 100 bytes per device
// at 100,000 bound devices). Sequence numbers keep counting past it.
const DefaultTraceLimit = 1 << 16

// WithHungTaskTimeout sets the hung-task detector's timeout for a machine
// on real goroutines (env.WithHungTaskTimeout): a driver callback, a
// device-lock wait or a grace period blocked longer than d is reported
// with the wait-for chain. 0 turns it off. The default is
// env.DefaultHungTaskTimeout (120 s, the kernel's), or
// env.TestHungTaskTimeout in a test binary. A machine on a simulator has
// none: the simulator reports every deadlock itself.
func WithHungTaskTimeout(d time.Duration) Option {
	return func(c *config) { c.envOpts = append(c.envOpts, env.WithHungTaskTimeout(d)) }
}

// WithHungTaskPanic makes the hung-task detector panic with its report
// after filing it (the kernel's hung_task_panic), or not. The default is
// on in a test binary, so that a hang fails the test with the wait-for
// chain rather than hanging it, and off otherwise.
func WithHungTaskPanic(on bool) Option {
	return func(c *config) { c.envOpts = append(c.envOpts, env.WithHungTaskPanic(on)) }
}

// NewSystem builds a machine: its environment, a driver core in it and a
// registered platform bus (the kernel's platform_bus_init at boot). It
// panics on contradictory options (a lockdep setting a simulator does not
// have, a negative trace limit): they are mistakes in the calling code.
// nil options are ignored.
func NewSystem(opts ...Option) *System {
	var cfg config
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if cfg.traceLimit != nil && *cfg.traceLimit < 0 {
		panic("drvsim: NewSystem: negative trace limit")
	}
	var e *env.Env
	if cfg.sim != nil {
		e = cfg.sim.Env()
		if cfg.lockdep != nil && *cfg.lockdep != e.Lockdep() {
			panic("drvsim: NewSystem: OnSim with a lockdep setting the simulator does not have (set sim.Config.NoLockdep)")
		}
	} else {
		on := cfg.lockdep == nil || *cfg.lockdep
		e = env.New(append([]env.Option{env.WithLockdep(on)}, cfg.envOpts...)...)
		if cfg.traceLimit == nil {
			e.Log().SetLimit(DefaultTraceLimit)
		}
	}
	if cfg.traceLimit != nil {
		e.Log().SetLimit(*cfg.traceLimit)
	}
	c := bus.NewCore(e)
	s := &System{Core: c, Platform: platform.NewBus()}
	if err := c.RegisterBus(s.Platform); err != nil {
		panic("drvsim: registering the platform bus: " + err.Error())
	}
	return s
}

// Close shuts the machine down: the driver core's asynchronous-probe
// worker stops (bus.Core.Close), then the machine's environment closes
// (env.Env.Close), where the kernel library drains and destroys the
// workqueues left, system_wq included, and waits for interrupt threads.
// No goroutine of the machine outlives it. Calling it again does nothing
// more. A System built with OnSim has nothing to stop once its run has
// ended: Close is not needed there, and harmless.
func (s *System) Close() {
	s.Core.Close()
	s.Env().Close()
}

// NewPlatformDevice allocates a platform device named name on the System's
// platform bus (platform_device_alloc); register it with RegisterDevice.
func (s *System) NewPlatformDevice(name string, opts ...device.Option) *device.Device {
	return platform.NewDevice(s.Platform, name, opts...)
}

// Events returns the recorded trace events.
func (s *System) Events() []trace.Event { return s.Log().Events() }

// Memory returns the machine's memory arena (kmalloc/kfree with KASAN's
// checks).
func (s *System) Memory() *env.Memory { return s.Env().Memory() }

// Sentinel errors, the same values as in package device and driver.
var (
	ErrProbeDefer        = device.ErrProbeDefer        // -EPROBE_DEFER
	ErrNoDevice          = device.ErrNoDevice          // -ENODEV
	ErrNoEntry           = device.ErrNoEntry           // -ENOENT
	ErrNoDeviceOrAddress = device.ErrNoDeviceOrAddress // -ENXIO
	ErrBusy              = device.ErrBusy              // -EBUSY
	ErrInvalid           = device.ErrInvalid           // -EINVAL
	ErrExist             = device.ErrExist             // -EEXIST
	ErrTimedOut          = device.ErrTimedOut          // -ETIMEDOUT
	ErrDeadlock          = device.ErrDeadlock          // -EDEADLK
	ErrAgain             = device.ErrAgain             // -EAGAIN
	ErrNameTooLong       = device.ErrNameTooLong       // -ENAMETOOLONG
	// ErrOops is matched by the error a panicking driver callback becomes
	// (env.ErrOops; see docs/lifecycle.md, "Oops").
	ErrOops = env.ErrOops
)

var _ device.Driver = (*driver.Driver)(nil)
var _ device.Bus = (*bus.Bus)(nil)
var _ bus.Machine = (*System)(nil)
var _ env.Host = (*device.Device)(nil)
