package drmsim

import (
	"fmt"
	"sort"
	"sync"

	"github.com/drvsim/drvsim/bus"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/trace"
)

// Class is the DRM core of one simulated machine: what the kernel keeps in
// globals set up by drm_core_init (drm_class, the minor xarray
// drm_minors_xa). It numbers minors ("card0", "card1", ...) and resolves
// opens of device nodes. Create it with NewClass. Classes share nothing.
type Class struct {
	core *bus.Core

	mu     sync.Mutex
	minors map[int]*Minor // reserved at drm_dev_init; Registered set at drm_dev_register
}

// NewClass is drm_core_init on machine m (a drvsim.System, a *bus.Core, a
// *usbsim.USB): an empty DRM core in m's environment, whose drm_device,
// drm_file, GEM object and drmm_kzalloc allocations come from the
// machine's memory arena.
func NewClass(m bus.Machine) *Class {
	return &Class{core: m.DriverCore(), minors: map[int]*Minor{}}
}

// Env returns the machine's environment (it makes a Class an env.Host).
func (c *Class) Env() *env.Env { return c.core.Env() }

// Log returns the machine's trace log.
func (c *Class) Log() *trace.Log { return c.Env().Log() }

// Memory returns the machine's memory arena.
func (c *Class) Memory() *env.Memory { return c.Env().Memory() }

// allocMinor is drm_minor_alloc's xa_alloc: the lowest free index.
func (c *Class) allocMinor(d *Device) *Minor {
	c.mu.Lock()
	defer c.mu.Unlock()
	idx := 0
	for c.minors[idx] != nil {
		idx++
	}
	m := &Minor{index: idx, name: fmt.Sprintf("card%d", idx), dev: d}
	c.minors[idx] = m
	return m
}

// freeMinor is drm_minor_alloc_release's xa_erase.
func (c *Class) freeMinor(m *Minor) {
	c.mu.Lock()
	delete(c.minors, m.index)
	c.mu.Unlock()
}

// Lookup returns the registered minor named name ("card0"), or nil: what
// the chrdev open of /dev/dri/<name> resolves (drm_minor_acquire's
// xa_load, which sees NULL for a minor that is reserved but not
// registered).
func (c *Class) Lookup(name string) *Minor {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range c.minors {
		if m.name == name && m.registered {
			return m
		}
	}
	return nil
}

// Nodes returns the names of the registered minors, sorted: the device
// nodes under /dev/dri.
func (c *Class) Nodes() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, m := range c.minors {
		if m.registered {
			out = append(out, m.name)
		}
	}
	sort.Strings(out)
	return out
}

// Open is open(2) of /dev/dri/<name>: drm_stub_open and drm_open. It fails
// with ErrNoDevice when no registered minor has that name or its device is
// unplugged. The File holds a reference on the drm device until its last
// close.
func (c *Class) Open(name string) (*File, error) {
	c.Env().Yield(sched.Point{Kind: "drm_open", Func: "drm_open", Obj: name})
	m, d := c.acquire(name)
	if m == nil {
		c.Log().Emit(trace.Event{Kind: KindFile, Func: "drm_open", Msg: "/dev/dri/" + name + ": ret=-ENODEV (no such minor)"})
		return nil, fmt.Errorf("drm_open /dev/dri/%s: %w", name, ErrNoDevice)
	}
	return d.open(m)
}

// acquire is drm_minor_acquire's lookup: the minor and a reference on its
// device, taken under the xarray lock.
func (c *Class) acquire(name string) (*Minor, *Device) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range c.minors {
		if m.name == name && m.registered {
			m.dev.refs.Add(1)
			return m, m.dev
		}
	}
	return nil, nil
}
