package drmsim

import "fmt"

// Register is drm_dev_register: the primary minor becomes visible (a
// device node: Class.Open finds it) and the device is marked registered.
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
	d.class.mu.Lock()
	d.primary.registered = true
	d.class.mu.Unlock()
	d.emit(KindDevice, "drm_minor_register", "/dev/dri/"+d.primary.name)
	d.emit(KindDevice, "drm_dev_register", fmt.Sprintf("Initialized %s %d.%d.%d for %s on minor %d",
		d.drv.Name, d.drv.Major, d.drv.Minor, d.drv.Patchlevel, d.parent.Name(), d.primary.index))
	return nil
}

// Unregister is drm_dev_unregister: the device is marked unregistered and
// its minor disappears (new opens fail with ErrNoDevice); open files keep
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
	d.class.mu.Lock()
	d.primary.registered = false
	d.class.mu.Unlock()
	d.emit(KindDevice, "drm_minor_unregister", "/dev/dri/"+d.primary.name)
}

// Registered reports whether the device is registered (dev->registered).
func (d *Device) Registered() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.registered
}
