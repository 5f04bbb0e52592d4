package device

// PMOps is struct dev_pm_ops (include/linux/pm.h): the power-management
// callbacks of a bus, a class or a driver. Every field is optional; a nil
// callback does nothing and succeeds, except that a runtime PM transition
// with no callback at any layer fails with ErrNoSys (rpm_callback).
//
// The PM core (package pm) picks each callback from the first layer that
// has a PMOps, the bus's before the driver's, and falls back to the
// driver's when that layer lacks that one callback, as the kernel's
// dpm_*_callback and RPM_GET_CALLBACK do. The system-sleep callbacks run
// with the device lock held; the runtime ones without it, and never two at
// once for one device.
type PMOps struct {
	// Prepare and Complete bracket a system sleep transition
	// (device_prepare, device_complete): Prepare runs before any device is
	// suspended, parents before children; Complete after every device is
	// resumed, children before parents. Complete also runs for a device
	// whose suspend failed.
	Prepare  func(dev *Device) error
	Complete func(dev *Device)
	// Suspend and Resume are the main system-sleep phase
	// (device_suspend, device_resume): children are suspended before
	// their parents and resumed after them.
	Suspend func(dev *Device) error
	Resume  func(dev *Device) error
	// SuspendLate and ResumeEarly run after every device's Suspend and
	// before every device's Resume, with runtime PM disabled
	// (device_suspend_late, device_resume_early).
	SuspendLate func(dev *Device) error
	ResumeEarly func(dev *Device) error
	// SuspendNoirq and ResumeNoirq run with device interrupt handlers
	// not called (device_suspend_noirq, device_resume_noirq).
	SuspendNoirq func(dev *Device) error
	ResumeNoirq  func(dev *Device) error
	// RuntimeSuspend, RuntimeResume and RuntimeIdle are runtime PM's
	// (rpm_suspend, rpm_resume, rpm_idle). RuntimeIdle returning nil lets
	// the PM core suspend the device; an error (typically ErrBusy) keeps
	// it active. RuntimeSuspend returning ErrBusy or ErrAgain leaves the
	// device active and runtime PM usable; any other error is sticky: the
	// device's later runtime PM calls fail with ErrInvalid until its
	// status is set again (pm_runtime_set_active, pm_runtime_set_suspended).
	RuntimeSuspend func(dev *Device) error
	RuntimeResume  func(dev *Device) error
	RuntimeIdle    func(dev *Device) error
}

// PMProvider is implemented by a bus (*bus.Bus) or a class whose devices
// have power-management callbacks (bus_type.pm, class.pm).
type PMProvider interface {
	// PMOps returns the callbacks, nil for none.
	PMOps() *PMOps
}

// Power returns the device's power-management state (struct dev_pm_info,
// dev->power), made by mk on the first call; package pm keeps it there.
// mk runs once, with no lock held.
func (c CoreAccess) Power(mk func() any) any {
	d := c.d
	if d == nil || mk == nil {
		return nil
	}
	d.mu.Lock()
	p := d.power
	d.mu.Unlock()
	if p != nil {
		return p
	}
	v := mk()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.power == nil {
		d.power = v
	}
	return d.power
}

// PowerState returns the device's power-management state, nil before
// package pm first looked at the device.
func (d *Device) PowerState() any {
	if d == nil {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.power
}
