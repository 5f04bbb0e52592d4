package drmsim

import (
	"fmt"
	"sort"
	"sync"

	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/trace"
)

// Host is where the DRM core finds its trace log and scheduler (nil outside
// a controlled run). *bus.Core, drvsim.System and *usbsim.USB implement it,
// as device.Host.
type Host interface {
	Log() *trace.Log
	Scheduler() sched.Scheduler
}

// Class is the DRM core of one simulated system: what the kernel keeps in
// globals set up by drm_core_init (drm_class, the minor xarray
// drm_minors_xa). It numbers minors ("card0", "card1", ...) and resolves
// opens of device nodes. Create it with NewClass. Classes share nothing.
type Class struct {
	host Host
	mem  *sim.Memory

	mu     sync.Mutex
	next   int
	minors map[int]*Minor // reserved at drm_dev_init; Registered set at drm_dev_register
	own    *sim.Memory
}

// ClassOption configures NewClass.
type ClassOption func(*Class)

// WithMemory makes the drm_device, drm_file, GEM object and drmm_kzalloc
// allocations of the class simulated allocations of m, checked like KASAN.
// By default the Memory of the host's scheduler is used when it is a
// *sim.Sim, and a stand-alone arena on the host's log otherwise.
func WithMemory(m *sim.Memory) ClassOption { return func(c *Class) { c.mem = m } }

// NewClass is drm_core_init: an empty DRM core on host.
func NewClass(h Host, opts ...ClassOption) *Class {
	c := &Class{host: h, minors: map[int]*Minor{}}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Log returns the host's trace log.
func (c *Class) Log() *trace.Log {
	if c.host == nil {
		return nil
	}
	return c.host.Log()
}

// Scheduler returns the host's scheduler (nil outside a controlled run).
func (c *Class) Scheduler() sched.Scheduler {
	if c.host == nil {
		return nil
	}
	return c.host.Scheduler()
}

// Memory returns the arena the class allocates from (see WithMemory).
func (c *Class) Memory() *sim.Memory {
	if c.mem != nil {
		return c.mem
	}
	if s, ok := c.Scheduler().(*sim.Sim); ok {
		return s.Memory()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.own == nil {
		c.own = sim.NewMemory(c.Log())
	}
	return c.own
}

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
	if s := c.Scheduler(); s != nil {
		s.Yield(sched.Point{Kind: "drm_open", Func: "drm_open", Obj: name})
	}
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
