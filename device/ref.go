package device

import (
	"fmt"

	"github.com/drvsim/drvsim/devres"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/trace"
)

// Get takes a reference (get_device) and returns d. Taking a reference on a
// device that was never initialized or is already released is reported with
// a trace.Warn event (the kernel's kobject_get warning) and changes nothing.
func (d *Device) Get() *Device {
	if d == nil {
		return nil
	}
	d.track(true)
	d.mu.Lock()
	if d.refs <= 0 {
		d.mu.Unlock()
		d.emit(trace.Warn, "get_device", "reference on a device with no references (not initialized or released)")
		return d
	}
	d.refs++
	d.mu.Unlock()
	return d
}

// Put drops a reference (put_device). The last one runs device_release,
// exactly once: devres_release_all for whatever devres is still on the
// device, then the release callback. Dropping a reference the device
// does not have is misuse: it returns an ErrInvalid error and emits
// trace.Warn, and the count stays at zero.
func (d *Device) Put() error {
	if d == nil {
		return nil
	}
	d.track(false)
	d.mu.Lock()
	if d.refs <= 0 {
		d.mu.Unlock()
		d.emit(trace.Warn, "put_device", "reference count underflow")
		return fmt.Errorf("put_device %s: reference count underflow: %w", d.path, ErrInvalid)
	}
	d.refs--
	last := d.refs == 0
	if last {
		d.released = true
	}
	d.mu.Unlock()
	if last {
		d.doRelease()
	}
	return nil
}

// Refs returns the current reference count (kref_read).
func (d *Device) Refs() int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.refs
}

// Released reports whether the release callback has run.
func (d *Device) Released() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.released
}

// doRelease models device_release: devres still on the device is released
// first, newest first (resources a driver-less device collected, or added
// after device_del by someone holding a reference), then the release
// callback runs, or the kernel's complaint is emitted when there is none.
func (d *Device) doRelease() {
	if n := d.devres.Len(); !d.devres.Empty() {
		d.emit(trace.DevresRelease, "devres_release_all", devres.Count(n))
		d.devres.ReleaseAll()
	}
	if d.release == nil {
		d.emit(trace.Warn, "device_release", "device does not have a release() function, it is broken and must be fixed")
		return
	}
	d.emit(trace.DeviceRelease, "device_release", "")
	e := d.Env()
	wt := e.Watch(env.Watched{What: "release", Func: "device_release", Dev: d.path})
	defer wt.Done()
	defer func() {
		if v := recover(); v != nil {
			env.Of(e).Oops(v, env.OopsSite{Func: "device_release", Callback: "release", Dev: d.path})
		}
	}() // a release callback that panics is an oops; put_device returns
	d.release(d)
}
