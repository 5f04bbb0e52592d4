package drmsim

import (
	"fmt"

	"github.com/drvsim/drvsim/trace"
)

// Register is drm_dev_register: the primary minor's device is added to the
// drm class (device_add: /dev/dri/cardN appears), the minor becomes
// visible to opens (Class.Open finds it) and the device is marked
// registered.
// Registering twice, or an unplugged device, fails with ErrExist or
// ErrNoDevice.
func (d *Device) Register() error {
	d.yield("drm_dev_register", "drm_dev_register")
	d.touch("drm_dev_register")
	d.mu.Lock()
	switch {
	case d.registered:
		d.mu.Unlock()
		return fmt.Errorf("drm_dev_register %s: already registered: %w", d.path, ErrExist)
	case d.unplugged || d.released:
		d.mu.Unlock()
		return fmt.Errorf("drm_dev_register %s: device unplugged: %w", d.path, ErrNoDevice)
	}
	d.registered = true
	d.mu.Unlock()
	// drm_minor_register: device_add(minor->kdev) creates /dev/dri/cardN,
	// then the minor is published for opens.
	if err := d.class.core.AddDevice(d.primary.kdev); err != nil {
		d.mu.Lock()
		d.registered = false
		d.mu.Unlock()
		return fmt.Errorf("drm_dev_register %s: drm_minor_register: %w", d.path, err)
	}
	d.class.mu.Lock()
	d.primary.registered = true
	d.class.mu.Unlock()
	d.emit(KindDevice, "drm_minor_register", "/dev/dri/"+d.primary.name)
	d.emit(KindDevice, "drm_dev_register", fmt.Sprintf("Initialized %s %d.%d.%d for %s on minor %d",
		d.drv.Name, d.drv.Major, d.drv.Minor, d.drv.Patchlevel, d.parent.Name(), d.primary.index))
	return nil
}

// Unregister is drm_dev_unregister: the device is marked unregistered and
// its minor disappears (new opens fail: the minor is unpublished, then its
// device deleted with its /dev/dri node); open files keep
// working and keep the device alive. It does nothing on a device that is
// not registered. Drivers of hot-unpluggable hardware call Unplug instead.
func (d *Device) Unregister() {
	d.touch("drm_dev_unregister")
	d.mu.Lock()
	if !d.registered {
		d.mu.Unlock()
		return
	}
	d.registered = false
	d.mu.Unlock()
	d.emit(KindDevice, "drm_dev_unregister", "")
	// drm_minor_unregister: the minor is unpublished (opens get -ENODEV),
	// then device_del(minor->kdev) removes /dev/dri/cardN.
	d.class.mu.Lock()
	d.primary.registered = false
	d.class.mu.Unlock()
	d.emit(KindDevice, "drm_minor_unregister", "/dev/dri/"+d.primary.name)
	if err := d.class.core.DeleteDevice(d.primary.kdev); err != nil {
		d.emit(trace.Warn, "drm_minor_unregister", err.Error())
	}
}

// Registered reports whether the device is registered (dev->registered).
func (d *Device) Registered() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.registered
}
