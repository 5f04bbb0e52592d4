package usbsim

import (
	"errors"
	"fmt"
	"time"

	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/pm"
)

// Power management of the USB core (drivers/usb/core/driver.c, hub.c,
// generic.c). A usb_device is the unit that suspends: its interfaces
// have no runtime PM callbacks of their own (pm_runtime_no_callbacks), so
// an interface's runtime status only says whether its driver holds the
// device awake, and the device's callbacks (usb_device_pm_ops, on the usb
// bus here) suspend the interfaces' drivers before the device and resume
// them after it (usb_suspend_both, usb_resume_both). A suspended device
// refuses URBs with -EHOSTUNREACH (can_submit is clear); its endpoints
// were flushed when it suspended.

// DefaultAutosuspendDelay is usbcore.autosuspend: the delay after the
// last busy time before an idle device autosuspends (usb_alloc_dev sets
// it on every device).
const DefaultAutosuspendDelay = 2 * time.Second

// pmOps are the usb bus's dev_pm_ops: usb_device_pm_ops for a
// usb_device; an interface has none (its callbacks return at once).
func (u *USB) pmOps() *device.PMOps {
	return &device.PMOps{
		Prepare:        u.devPrepare,
		Complete:       u.devComplete,
		Suspend:        u.devSuspend,
		Resume:         u.devResume,
		RuntimeSuspend: u.runtimeSuspend,
		RuntimeResume:  u.runtimeResume,
		RuntimeIdle:    u.runtimeIdle,
	}
}

// udevOf returns the usb_device of dev, nil for an interface.
func (u *USB) udevOf(dev *device.Device) *Device {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.devs[dev]
}

// devPrepare is usb_dev_prepare: nothing to do but succeed.
func (u *USB) devPrepare(*device.Device) error { return nil }

// devComplete is usb_dev_complete -> usb_resume_complete: the interfaces
// unbound for the sleep (drivers without suspend or resume, or whose
// device was reset) are bound again.
func (u *USB) devComplete(dev *device.Device) {
	d := u.udevOf(dev)
	if d == nil || d.State() == StateNotAttached {
		return
	}
	u.rebindMarked(d)
}

// devSuspend is usb_dev_suspend -> usb_suspend: the interfaces whose
// drivers cannot suspend are unbound (unbind_no_pm_drivers_interfaces),
// the remote wakeup setting is chosen (a runtime-suspended device is
// resumed if it would change), then usb_suspend_both with errors of the
// interface drivers ignored.
func (u *USB) devSuspend(dev *device.Device) error {
	d := u.udevOf(dev)
	if d == nil {
		return nil
	}
	for _, intf := range d.Interfaces() {
		if drv := intf.Driver(); drv != nil && (drv.Suspend == nil || drv.Resume == nil) {
			u.forcedUnbind(intf, "no suspend or resume callback")
		}
	}
	return u.suspendBoth(d, false)
}

// devResume is usb_dev_resume -> usb_resume: usb_resume_both; a device
// gone meanwhile (-ENODEV) is not an error, the hub_wq takes it away.
// Runtime PM learns the device is active again (disable, set_active,
// enable).
func (u *USB) devResume(dev *device.Device) error {
	d := u.udevOf(dev)
	if d == nil {
		return nil
	}
	err := u.resumeBoth(d, false)
	if errors.Is(err, ErrNoDevice) || errors.Is(err, ErrShutdown) {
		u.emit(KindDevice, d.Path(), "usb_resume", "device gone: "+Errno(err)+" (reported as 0)")
		return nil
	}
	if err == nil {
		_ = pm.Disable(dev)
		_ = pm.SetActive(dev)
		_ = pm.Enable(dev)
		u.unbindMarked(d) // drivers without reset_resume; bound again in devComplete
	}
	return err
}

// runtimeIdle is usb_runtime_idle: an autosuspend is requested if
// nothing forbids it, and -EBUSY tells the PM core not to suspend the
// device now itself.
func (u *USB) runtimeIdle(dev *device.Device) error {
	d := u.udevOf(dev)
	if d == nil {
		return nil
	}
	if u.autosuspendCheck(d) == nil {
		_ = pm.RuntimeAutosuspend(dev)
	}
	return ErrBusy
}

// runtimeSuspend is usb_runtime_suspend: usb_suspend_both for an
// autosuspend, -EAGAIN when an interface is in use or needs a remote
// wakeup the device cannot give; any other failure is -EBUSY, the last
// busy time marked so that the autosuspend is tried again.
func (u *USB) runtimeSuspend(dev *device.Device) error {
	d := u.udevOf(dev)
	if d == nil {
		return nil
	}
	if err := u.autosuspendCheck(d); err != nil {
		return ErrAgain
	}
	if err := u.suspendBoth(d, true); err != nil {
		if errors.Is(err, ErrAgain) || errors.Is(err, ErrBusy) {
			_ = pm.MarkLastBusy(dev)
		}
		return ErrBusy
	}
	return nil
}

// runtimeResume is usb_runtime_resume: usb_resume_both for an
// autoresume (-ENODEV for a device that is gone).
func (u *USB) runtimeResume(dev *device.Device) error {
	d := u.udevOf(dev)
	if d == nil {
		return nil
	}
	return u.resumeBoth(d, true)
}

// autosuspendCheck is autosuspend_check: -ENODEV for a device gone;
// -EBUSY when an interface with runtime PM enabled is in use (its usage
// count, usb_autopm_get_interface's); -EOPNOTSUPP when a driver needs
// remote wakeup and the device cannot do it. It sets do_remote_wakeup.
func (u *USB) autosuspendCheck(d *Device) error {
	if d.State() == StateNotAttached {
		return ErrNoDevice
	}
	w := false
	for _, intf := range d.Interfaces() {
		s, ok := pm.StateOf(intf.dev)
		if !ok || !s.Enabled {
			continue // unbound, or a driver without autosuspend: permanently active
		}
		if s.Usage > 0 {
			return ErrBusy
		}
		u.mu.Lock()
		w = w || intf.needsRemoteWakeup
		u.mu.Unlock()
	}
	if w && !d.gadget.RemoteWakeup {
		u.emit(KindDevice, d.Path(), "autosuspend_check", "remote wakeup needed for autosuspend")
		return ErrNotSupported
	}
	u.mu.Lock()
	d.doRemoteWakeup = w
	u.mu.Unlock()
	return nil
}

// suspendBoth is usb_suspend_both: each bound interface's driver
// suspends, last interface first, then the device itself
// (usb_suspend_device: the port is suspended, USB_STATE_SUSPENDED). For an
// autosuspend a driver's error stops it and the interfaces already
// suspended are resumed; a system sleep ignores the errors. Once
// suspended the device refuses URBs (can_submit cleared) and its
// endpoints are flushed. A device gone or suspended already is left
// alone.
func (u *USB) suspendBoth(d *Device, auto bool) error {
	if st := d.State(); st == StateNotAttached || st == StateSuspended {
		return nil
	}
	msg := "PMSG_SUSPEND"
	if auto {
		msg = "PMSG_AUTO_SUSPEND"
	}
	u.emit(KindDevice, d.Path(), "usb_suspend_both", msg)
	intfs := d.Interfaces()
	for i := len(intfs) - 1; i >= 0; i-- {
		err := u.suspendInterface(d, intfs[i])
		if err != nil && !auto {
			u.emit(KindDriver, intfs[i].Path(), "usb_suspend_interface", "error ignored during system sleep: "+Errno(err))
			err = nil
		}
		if err != nil {
			for _, back := range intfs[i+1:] {
				_ = u.resumeInterface(d, back, false)
			}
			return fmt.Errorf("usb_suspend_both %s: %w", d.Name(), err)
		}
	}
	u.mu.Lock()
	wake := d.doRemoteWakeup && d.gadget.RemoteWakeup
	u.mu.Unlock()
	port := "usb_port_suspend"
	if d.parent == nil {
		port = "hcd_bus_suspend"
	}
	if wake {
		u.emit(KindDevice, d.Path(), port, "suspended, remote wakeup enabled")
	} else {
		u.emit(KindDevice, d.Path(), port, "suspended")
	}
	u.setState(d, StateSuspended)
	u.flushEndpoints(d)
	return nil
}

// flushEndpoints is the usb_hcd_flush_endpoint of every endpoint after a
// suspend: URBs still queued are given back with -ESHUTDOWN. The
// endpoints stay enabled.
func (u *USB) flushEndpoints(d *Device) {
	u.mu.Lock()
	eps := append([]*endpoint(nil), d.eps...)
	u.mu.Unlock()
	for _, ep := range sortEndpoints(eps) {
		u.mu.Lock()
		was := ep.enabled
		u.mu.Unlock()
		if len(ep.queue) == 0 && ep.completing == 0 {
			continue
		}
		u.disableEndpoint(ep)
		u.mu.Lock()
		ep.enabled = was
		u.mu.Unlock()
	}
}

// suspendInterface is usb_suspend_interface: the driver's Suspend, for a
// bound interface.
func (u *USB) suspendInterface(d *Device, intf *Interface) error {
	drv := intf.Driver()
	if d.State() == StateNotAttached || drv == nil || intf.Condition() != Bound || drv.Suspend == nil {
		return nil
	}
	u.emit(KindDriver, intf.Path(), "usb_suspend_interface", "driver="+drv.Name)
	if err := drv.Suspend(intf); err != nil {
		u.emit(KindDriver, intf.Path(), "usb_suspend_interface", "failed: "+Errno(err))
		return err
	}
	return nil
}

// resumeBoth is usb_resume_both: -ENODEV for a device gone; otherwise
// URBs are accepted again, the device resumed (usb_resume_device:
// CONFIGURED) and each bound interface's driver resumed, in order, with
// ResetResume if the device was reset. The last busy time is marked.
func (u *USB) resumeBoth(d *Device, auto bool) error {
	if d.State() == StateNotAttached {
		u.emit(KindDevice, d.Path(), "usb_resume_both", "device not attached: -ENODEV")
		return fmt.Errorf("usb_resume_both %s: %w", d.Name(), ErrNoDevice)
	}
	msg := "PMSG_RESUME"
	if auto {
		msg = "PMSG_AUTO_RESUME"
	}
	u.mu.Lock()
	reset := d.resetResume
	u.mu.Unlock()
	if d.State() == StateSuspended || reset {
		u.emit(KindDevice, d.Path(), "usb_resume_both", msg)
		port := "usb_port_resume"
		if d.parent == nil {
			port = "hcd_bus_resume"
		}
		u.emit(KindDevice, d.Path(), port, "resumed")
		u.setState(d, StateConfigured)
	}
	for _, intf := range d.Interfaces() {
		_ = u.resumeInterface(d, intf, reset)
	}
	u.mu.Lock()
	d.resetResume = false
	u.mu.Unlock()
	_ = pm.MarkLastBusy(d.dev)
	return nil
}

// resumeInterface is usb_resume_interface: the driver's Resume (or
// ResetResume after a reset; a driver without it is marked for
// rebinding), for a bound interface not marked for rebinding.
func (u *USB) resumeInterface(d *Device, intf *Interface, reset bool) error {
	drv := intf.Driver()
	u.mu.Lock()
	needs := intf.needsBinding
	u.mu.Unlock()
	if d.State() == StateNotAttached || drv == nil || intf.Condition() != Bound || needs {
		return nil
	}
	if reset {
		if drv.ResetResume == nil {
			u.emit(KindDriver, intf.Path(), "usb_resume_interface", "no reset_resume for driver "+drv.Name+"?")
			u.mu.Lock()
			intf.needsBinding = true
			u.mu.Unlock()
			return nil
		}
		u.emit(KindDriver, intf.Path(), "usb_resume_interface", "reset_resume driver="+drv.Name)
		return drv.ResetResume(intf)
	}
	if drv.Resume == nil {
		return nil
	}
	u.emit(KindDriver, intf.Path(), "usb_resume_interface", "driver="+drv.Name)
	return drv.Resume(intf)
}

// Suspend is usb_suspend_both for the device with an autosuspend's rules
// (a driver's error fails it), called directly: the state the device
// goes to when it autosuspends. Usually the PM core calls it
// (pm.Suspend for the system, runtime PM for an autosuspend).
// ErrInvalid for a device that is not configured.
func (d *Device) Suspend() error {
	if st := d.State(); st != StateConfigured {
		return fmt.Errorf("usb_suspend_both %s: state %s: %w", d.Name(), st, ErrInvalid)
	}
	return d.u.suspendBoth(d, true)
}

// Resume is usb_resume_both called directly: the device is CONFIGURED
// again and every bound interface driver's Resume runs, in interface
// order. ErrInvalid for a device that is not suspended.
func (d *Device) Resume() error {
	if st := d.State(); st != StateSuspended {
		return fmt.Errorf("usb_resume_both %s: state %s: %w", d.Name(), st, ErrInvalid)
	}
	return d.u.resumeBoth(d, true)
}

// AutopmGetInterface is usb_autopm_get_interface: the interface's usage
// count goes up and the device is resumed now if it was autosuspended
// (the interface's parent). On error (the device is gone: -ENODEV from
// its resume, or -EBUSY, -EACCES) the count is dropped again and the
// error returned: the caller must not put.
func (i *Interface) AutopmGetInterface() error {
	err := pm.GetSync(i.dev)
	if err != nil {
		_ = pm.PutSync(i.dev)
		i.u.emit(KindDriver, i.Path(), "usb_autopm_get_interface", "failed: "+Errno(err))
		return fmt.Errorf("usb_autopm_get_interface %s: %w", i.Name(), err)
	}
	i.u.mu.Lock()
	i.pmUsage++
	i.u.mu.Unlock()
	return nil
}

// AutopmPutInterface is usb_autopm_put_interface: the device's last busy
// time is marked and the interface's usage count dropped; at zero the
// device may autosuspend once the delay is over.
func (i *Interface) AutopmPutInterface() error {
	_ = pm.MarkLastBusy(i.udev.dev)
	i.u.mu.Lock()
	if i.pmUsage > 0 {
		i.pmUsage--
	}
	i.u.mu.Unlock()
	return pm.PutSync(i.dev)
}

// AutopmGetInterfaceAsync is usb_autopm_get_interface_async: the count
// goes up and a resume is requested, without waiting (atomic context).
func (i *Interface) AutopmGetInterfaceAsync() error {
	err := pm.Get(i.dev)
	if err != nil && !errors.Is(err, ErrInProgress) {
		_ = pm.PutNoidle(i.dev)
		return fmt.Errorf("usb_autopm_get_interface_async %s: %w", i.Name(), err)
	}
	i.u.mu.Lock()
	i.pmUsage++
	i.u.mu.Unlock()
	return nil
}

// AutopmPutInterfaceAsync is usb_autopm_put_interface_async.
func (i *Interface) AutopmPutInterfaceAsync() error {
	_ = pm.MarkLastBusy(i.udev.dev)
	i.u.mu.Lock()
	if i.pmUsage > 0 {
		i.pmUsage--
	}
	i.u.mu.Unlock()
	return pm.Put(i.dev)
}

// AutopmGetInterfaceNoResume is usb_autopm_get_interface_no_resume: the
// count goes up, nothing is resumed.
func (i *Interface) AutopmGetInterfaceNoResume() {
	_ = pm.MarkLastBusy(i.udev.dev)
	i.u.mu.Lock()
	i.pmUsage++
	i.u.mu.Unlock()
	_ = pm.GetNoresume(i.dev)
}

// AutopmPutInterfaceNoSuspend is usb_autopm_put_interface_no_suspend:
// the count goes down, nothing is suspended.
func (i *Interface) AutopmPutInterfaceNoSuspend() {
	_ = pm.MarkLastBusy(i.udev.dev)
	i.u.mu.Lock()
	if i.pmUsage > 0 {
		i.pmUsage--
	}
	i.u.mu.Unlock()
	_ = pm.PutNoidle(i.dev)
}

// PMUsage returns the interface's pm_usage_cnt: the holds taken with
// usb_autopm_get_interface and not yet put.
func (i *Interface) PMUsage() int {
	i.u.mu.Lock()
	defer i.u.mu.Unlock()
	return i.pmUsage
}

// SetNeedsRemoteWakeup sets intf->needs_remote_wakeup: the device may
// autosuspend only with remote wakeup enabled (a driver waiting for
// input sets it while a file is open).
func (i *Interface) SetNeedsRemoteWakeup(on bool) {
	i.u.mu.Lock()
	i.needsRemoteWakeup = on
	i.u.mu.Unlock()
}

// EnableAutosuspend is usb_enable_autosuspend (echo auto >
// power/control): the device may autosuspend when idle.
func (d *Device) EnableAutosuspend() error { return pm.Allow(d.dev) }

// DisableAutosuspend is usb_disable_autosuspend (echo on >
// power/control): the device is resumed and kept active. Every new
// device but a hub starts so (usb_new_device).
func (d *Device) DisableAutosuspend() error { return pm.Forbid(d.dev) }

// LosePower is the hardware losing the device's state while it is
// suspended (its port or controller was reset, the kernel keeps it with
// USB persist): the next resume resets it (reset_resume), and the
// interface drivers get ResetResume instead of Resume; a driver without
// ResetResume is unbound and bound again. ErrInvalid for a device that
// is not suspended.
func (d *Device) LosePower() error {
	u := d.u
	u.mu.Lock()
	if d.state != StateSuspended {
		st := d.state
		u.mu.Unlock()
		return fmt.Errorf("usb persist %s: state %s: %w", d.Name(), st, ErrInvalid)
	}
	d.resetResume = true
	u.mu.Unlock()
	u.emit(KindPort, d.Path(), "hardware", "power lost while suspended: the next resume resets the device (reset_resume)")
	return nil
}

// RemoteWakeupEnabled reports whether the device suspended with remote
// wakeup enabled (do_remote_wakeup).
func (d *Device) RemoteWakeupEnabled() bool {
	d.u.mu.Lock()
	defer d.u.mu.Unlock()
	return d.doRemoteWakeup && d.state == StateSuspended
}

// RemoteWakeup is the device signalling resume on its port (a key
// pressed, data arrived): if it is suspended with remote wakeup enabled,
// the hub_wq resumes it (usb_remote_wakeup: usb_autoresume_device, then
// usb_autosuspend_device, so that it may suspend again once its drivers
// are done). A device suspended without remote wakeup cannot signal:
// ErrNotSupported. A device that is not suspended: ErrInvalid.
func (d *Device) RemoteWakeup() error {
	u := d.u
	u.enter()
	defer u.exit("usb_remote_wakeup " + d.Name())
	u.mu.Lock()
	st, wake := d.state, d.doRemoteWakeup && d.gadget.RemoteWakeup
	u.mu.Unlock()
	switch {
	case st != StateSuspended:
		return fmt.Errorf("usb_remote_wakeup %s: state %s: %w", d.Name(), st, ErrInvalid)
	case !wake:
		u.emit(KindPort, d.Path(), "hardware", "resume signalling ignored: remote wakeup not enabled")
		return fmt.Errorf("usb_remote_wakeup %s: remote wakeup not enabled: %w", d.Name(), ErrNotSupported)
	}
	u.emit(KindHub, d.Path(), "usb_remote_wakeup", "usb wakeup-resume")
	if err := pm.GetSync(d.dev); err != nil {
		_ = pm.PutSync(d.dev)
		return fmt.Errorf("usb_remote_wakeup %s: %w", d.Name(), err)
	}
	_ = pm.MarkLastBusy(d.dev)
	return pm.PutSyncAutosuspend(d.dev)
}

// Reset is usb_reset_device: the device is reset and reconfigured while
// its interface drivers stay bound if they can. The device is resumed and
// held for it; each bound interface's driver gets PreReset (a driver
// without PreReset and PostReset, or whose PreReset fails, is unbound
// instead); after the reset each gets PostReset in reverse order (an
// error marks it for rebinding), and the interfaces unbound are bound
// again if the reset succeeded. Errors: ErrInvalid for a device gone,
// ErrIsDir for a root hub, ErrInProgress for a reset already running;
// ErrNoDevice when the device went away during the reset.
func (d *Device) Reset() error {
	u := d.u
	if d.State() == StateNotAttached {
		return fmt.Errorf("usb_reset_device %s: device reset not allowed in state %s: %w", d.Name(), StateNotAttached, ErrInvalid)
	}
	if d.parent == nil {
		return fmt.Errorf("usb_reset_device %s: a root hub: %w", d.Name(), ErrIsDir)
	}
	u.mu.Lock()
	if d.resetInProgress {
		u.mu.Unlock()
		return fmt.Errorf("usb_reset_device %s: %w", d.Name(), ErrInProgress)
	}
	d.resetInProgress = true
	u.mu.Unlock()
	u.enter()
	defer u.exit("usb_reset_device " + d.Name())
	defer func() {
		u.mu.Lock()
		d.resetInProgress = false
		u.mu.Unlock()
	}()
	u.emit(KindHub, d.Path(), "usb_reset_device", "")
	_ = pm.GetSync(d.dev) // usb_autoresume_device
	intfs := d.Interfaces()
	for _, intf := range intfs {
		drv := intf.Driver()
		if drv == nil {
			continue
		}
		unbind := intf.Condition() == Bound
		if drv.PreReset != nil && drv.PostReset != nil {
			u.emit(KindDriver, intf.Path(), "usb_reset_device", "pre_reset driver="+drv.Name)
			unbind = drv.PreReset(intf) != nil
		}
		if unbind {
			u.forcedUnbind(intf, "reset")
		}
	}
	var err error
	if d.State() == StateNotAttached {
		err = fmt.Errorf("usb_reset_and_verify_device %s: %w", d.Name(), ErrNoDevice)
		u.emit(KindHub, d.Path(), "usb_reset_and_verify_device", "device gone: -ENODEV")
	} else {
		u.emit(KindHub, d.Path(), "usb_reset_and_verify_device", fmt.Sprintf("reset %s device number %d", "full-speed", d.devnum))
	}
	for i := len(intfs) - 1; i >= 0; i-- {
		intf := intfs[i]
		u.mu.Lock()
		rebind := intf.needsBinding
		u.mu.Unlock()
		drv := intf.Driver()
		if rebind || drv == nil {
			continue
		}
		rebind = intf.Condition() == Bound
		if drv.PostReset != nil {
			u.emit(KindDriver, intf.Path(), "usb_reset_device", "post_reset driver="+drv.Name)
			rebind = drv.PostReset(intf) != nil
		}
		if rebind {
			u.mu.Lock()
			intf.needsBinding = true
			u.mu.Unlock()
		}
	}
	if err == nil {
		u.unbindMarked(d)
		u.rebindMarked(d)
	}
	_ = pm.MarkLastBusy(d.dev)
	_ = pm.PutSyncAutosuspend(d.dev) // usb_autosuspend_device
	return err
}

// forcedUnbind is usb_forced_unbind_intf: the interface's driver is
// released (device_release_driver) and the interface marked for
// rebinding.
func (u *USB) forcedUnbind(intf *Interface, why string) {
	u.emit(KindDriver, intf.Path(), "usb_forced_unbind_intf", "forced unbind: "+why)
	if err := u.core.ReleaseDriver(intf.dev); err != nil {
		u.emit(KindDriver, intf.Path(), "usb_forced_unbind_intf", "device_release_driver: "+Errno(err))
	}
	u.mu.Lock()
	intf.needsBinding = true
	u.mu.Unlock()
}

// unbindMarked is unbind_marked_interfaces: interfaces marked for
// rebinding that are still bound are unbound.
func (u *USB) unbindMarked(d *Device) {
	for _, intf := range d.Interfaces() {
		u.mu.Lock()
		needs := intf.needsBinding
		u.mu.Unlock()
		if needs && intf.Driver() != nil {
			u.forcedUnbind(intf, "marked for rebinding")
		}
	}
}

// rebindMarked is rebind_marked_interfaces: every interface marked for
// rebinding is offered to the drivers again (usb_rebind_intf:
// device_attach).
func (u *USB) rebindMarked(d *Device) {
	for _, intf := range d.Interfaces() {
		u.mu.Lock()
		needs := intf.needsBinding
		intf.needsBinding = false
		u.mu.Unlock()
		if !needs || !intf.dev.IsRegistered() {
			continue
		}
		u.emit(KindDriver, intf.Path(), "usb_rebind_intf", "")
		if _, err := u.core.Attach(intf.dev); err != nil {
			u.emit(KindDriver, intf.Path(), "usb_rebind_intf", "device_attach: "+Errno(err))
		}
	}
}
