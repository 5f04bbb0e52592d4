package drmsim

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/revocable"
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/trace"
)

// Device is struct drm_device: a DRM device allocated against a parent
// device, with its own reference count (drm_dev_get / drm_dev_put), one
// primary minor, a list of open files, a list of drmm managed actions
// released at the last put, and its unplug state.
//
// The unplug state is a revocable.Provider whose resource is the device's
// hardware presence (Presence): drm_dev_enter is TryAccess on a consumer
// handle the device owns, drm_dev_unplug is the provider's Revoke. See
// Enter and Presence.
//
// Allocate it with DevAlloc or DevmDevAlloc. All methods are safe for
// concurrent use.
type Device struct {
	self *revocable.Consumer[Presence] // the classic drm_dev_enter's handle; first: the hot path

	class   *Class
	drv     *Driver
	parent  *device.Device
	path    string
	e       *env.Env
	log     *trace.Log
	obj     *env.Object // the struct drm_device allocation, freed at release
	primary *Minor

	pres *revocable.Provider[Presence]

	refs atomic.Int64

	mu         sync.Mutex
	registered bool
	unplugged  bool
	released   bool
	files      []*File
	managed    []managedRes // oldest first
	mappings   []*Mapping
	private    any
	seq        int
	mode       modeConfig // mode_config (modeset.go)
}

// Presence is the resource the device's revocable provider hands out while
// the hardware is there: drm_dev_enter succeeding. It carries the device,
// so that a driver holding its own revocable handle (revocable.New on
// Device.Presence) reaches the device through it.
type Presence struct {
	// Dev is the drm device whose hardware is present.
	Dev *Device
}

// DevAlloc is drm_dev_alloc (and drm_dev_init): a drm device for drv with
// parent as its parent, holding one reference (the caller's), with its
// primary minor reserved but not yet visible (call Register); past
// MaxPrimaryMinors devices it fails with ErrNoSpace. It takes a
// reference on parent (get_device) that the device's own drmm action
// drops at release. parent must be initialized (registered) by the driver
// core.
func DevAlloc(c *Class, drv *Driver, parent *device.Device) (*Device, error) {
	if c == nil || drv == nil || drv.Name == "" || parent == nil {
		return nil, fmt.Errorf("drm_dev_init: class, named driver and parent required: %w", ErrInvalid)
	}
	d := &Device{class: c, drv: drv, parent: parent, e: c.Env(), log: c.Log()}
	var err error
	if d.primary, err = c.allocMinor(d, parent); err != nil {
		return nil, fmt.Errorf("drm_dev_init %s: %w", parent.Name(), err)
	}
	d.path = d.primary.kdev.Path()
	d.obj = d.e.Memory().Alloc("drm_device " + d.primary.name)
	d.refs.Store(1)
	parent.Get()
	d.pres = revocable.NewProvider(d.e, &Presence{Dev: d}, revocable.WithName(d.path))
	// The device's own handle is read by every task entering the
	// device: its reader slots are per CPU, as drm_unplug_srcu's are.
	self, err := revocable.NewShared(d.pres)
	if err != nil { // cannot happen: a fresh provider is neither revoked nor released
		panic(err)
	}
	d.self = self
	d.emit(KindDevice, "drm_dev_init", fmt.Sprintf("driver=%s parent=%s refs=1", drv.Name, parent.Name()))
	// drm_dev_init's own managed actions; the first added runs last.
	d.addManaged("drm_dev_init_release", func() {
		_ = d.self.Close()
		_ = d.parent.Put()
	}, false)
	d.addManaged("drm_minor_alloc_release "+d.primary.name, func() { c.freeMinor(d.primary) }, false)
	return d, nil
}

// Driver returns the drm driver (dev->driver).
func (d *Device) Driver() *Driver { return d.drv }

// Parent returns the parent device (dev->dev).
func (d *Device) Parent() *device.Device { return d.parent }

// Primary returns the primary minor (dev->primary).
func (d *Device) Primary() *Minor { return d.primary }

// Class returns the DRM core the device belongs to.
func (d *Device) Class() *Class { return d.class }

// Path returns the primary minor's sysfs-like path,
// "<parent path>/drm/card<N>", used in trace events.
func (d *Device) Path() string { return d.path }

// String returns the path.
func (d *Device) String() string { return d.path }

// Env returns the machine's environment (it makes a Device an env.Host).
func (d *Device) Env() *env.Env { return d.e }

// Memory returns the machine's memory arena.
func (d *Device) Memory() *env.Memory { return d.e.Memory() }

// Log returns the trace log.
func (d *Device) Log() *trace.Log { return d.log }

// SetPrivate stores the driver's data (the kernel embeds struct drm_device
// in the driver's struct and uses container_of; dev->dev_private in older
// drivers).
func (d *Device) SetPrivate(v any) {
	d.mu.Lock()
	d.private = v
	d.mu.Unlock()
}

// Private returns the driver's data set with SetPrivate.
func (d *Device) Private() any {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.private
}

// Get is drm_dev_get: take a reference. The caller must already own one.
func (d *Device) Get() *Device {
	n := d.refs.Add(1)
	if n <= 1 {
		d.emit(trace.Warn, "drm_dev_get", "reference on a released drm device")
	}
	d.emit(KindDevice, "drm_dev_get", fmt.Sprintf("refs=%d", n))
	return d
}

// Put is drm_dev_put: drop a reference; the last one releases the device
// (drm_dev_release): the driver's Release, then every drmm action, newest
// first (drm_managed_release), then the device's memory is freed. A put
// past zero emits trace.Warn and changes nothing.
func (d *Device) Put() {
	n := d.refs.Add(-1)
	if n < 0 {
		d.refs.Add(1)
		d.emit(trace.Warn, "drm_dev_put", "reference count underflow")
		return
	}
	d.emit(KindDevice, "drm_dev_put", fmt.Sprintf("refs=%d", n))
	if n == 0 {
		d.release()
	}
}

// Refs returns the reference count (kref_read(&dev->ref)).
func (d *Device) Refs() int64 { return d.refs.Load() }

// Released reports whether the last reference was dropped and the device
// freed.
func (d *Device) Released() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.released
}

// release is drm_dev_release.
func (d *Device) release() {
	d.mu.Lock()
	d.released = true
	d.mu.Unlock()
	d.emit(KindDevice, "drm_dev_release", "last reference dropped")
	if d.drv.Release != nil {
		d.drv.Release(d)
	}
	d.managedRelease()
	d.obj.Free() // kfree(dev->managed.final_kfree)
}

// touch checks an access to the struct drm_device allocation: after the
// last put it is a use-after-free.
func (d *Device) touch(what string) { d.obj.Access(what) }

func (d *Device) yield(kind, fn string) {
	d.e.Yield(sched.Point{Kind: kind, Func: fn, Obj: d.path})
}

func (d *Device) emit(kind trace.Kind, fn, msg string) {
	d.log.Emit(trace.Event{Kind: kind, Dev: d.path, Func: fn, Msg: msg})
}
