package zoo

import (
	"fmt"
	"time"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/bus"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/driver"
	"github.com/drvsim/drvsim/pm"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/zoo/rpmsuppliers"
)

func rpmSuppliersProbe() *Bug {
	b := &Bug{
		Name:      "rpm-suppliers-probe",
		Subsystem: "driver core + runtime PM, device links",
		Commit:    "9dfacc54a8661bc8be6e08cffee59596ec59f263",
		Subject:   "PM: runtime: Fix race getting/putting suppliers at probe",
		Author:    "Adrian Hunter, 2021-04 (5.12-rc6; reported by Asutosh Das)",
		Report: "pm_runtime_put_suppliers could suspend the suppliers of an active consumer: after a " +
			"probe that raced with the consumer's runtime suspend, the device link counted one hold " +
			"on the supplier too few, and the supplier could runtime-suspend while the consumer was " +
			"active (the commit; Fixes: 4c06c4e6cf63, which had made the probe's hold count in the " +
			"link's rpm_active).",
		Race: "T1 (modprobe sd) driver_probe_device: pm_runtime_get_suppliers resumes the disk's " +
			"supplier, the UFS device W-LU, and counts the hold (rpm_active 3: one, the active disk's " +
			"hold, the probe's) | T2 (pm_wq) the disk's runtime suspend, already in its callback, " +
			"drops every hold above one (rpm_active 1), the probe's with the disk's | T1 sd's probe " +
			"resumes the disk, which holds its supplier again (rpm_active 2), and puts it with " +
			"autosuspend pending; pm_runtime_put_suppliers drops 2 -> 1 and puts the supplier: the " +
			"disk is active, nothing holds its supplier, which suspends.",
		Fix: "pm_runtime_put_suppliers drops the probe's count only if the consumer is " +
			"runtime-suspended, checked under its power lock; the count of an active consumer is " +
			"left to its runtime suspend. (The series's other patch, c0c33442f720, had moved the " +
			"count after the resume in pm_runtime_get_suppliers; both versions here have it.)",
		Notes: "drvsim's PM core counts the probe's hold the way the kernel has since 887371066039 " +
			"(2022): in the supplier's usage count only, which has no such race. zoo/rpmsuppliers " +
			"rebuilds the 5.12 counting (rpm_active and supplier_preactivated per link, " +
			"links_count) on pm's runtime PM: it wraps the machine's power hooks for the calls " +
			"around really_probe and for link creation, and the consumer bus's runtime callbacks, " +
			"where __rpm_callback took and dropped the consumer's holds. The machine is shaped after " +
			"SCSI, whose core enables a device's runtime PM before a driver binds it " +
			"(scsi_sysfs_add_sdev, before device_add), and after the UFS code the reporter wrote, which makes the " +
			"device W-LU the DL_FLAG_PM_RUNTIME supplier of every other logical unit " +
			"(ufshcd_setup_links); the host, the target, the block layer and sd's real probe are " +
			"left out. drvsim's links have no DL_FLAG_RPM_ACTIVE: the disk comes up by a runtime " +
			"resume, which counts its hold the same way. The kernel does not check the symptom; the " +
			"disk's first read, 10 ms after the probe and well inside its autosuspend delay, checks " +
			"that its supplier is powered (rpmsuppliers.CheckSuppliers).",
	}
	pair(b, "2021 runtime PM", [2]string{
		"A SCSI disk's probe races the runtime suspend pm_wq runs for it: the suspend drops the " +
			"probe's hold on the disk's DL_FLAG_PM_RUNTIME supplier, and pm_runtime_put_suppliers " +
			"then drops the hold the resumed disk took: its first read finds the supplier suspended.",
		"The same race with the fix: pm_runtime_put_suppliers leaves the count of an active consumer " +
			"to its suspend; in every schedule the supplier is active while the disk is, and both end " +
			"suspended with every count back to its floor.",
	}, rpmsuppliers.BugSuspendedSupplier, rpmSuppliersRun)
	return b
}

// The SCSI devices of the machine: a logical unit (the disk sd binds)
// and the UFS device well-known LU, its supplier (49488 is the W-LU's
// SCSI LUN, 0xc150).
const (
	diskLUN  = "0:0:0:0"
	wlunName = "0:0:0:49488"
)

// The disk's autosuspend delay, and when its first read comes after the
// probe (well inside the delay, so that the disk is still active).
const (
	diskAutosuspend = 2 * time.Second
	diskReadAfter   = 10 * time.Millisecond
)

// scsiBus is the SCSI bus reduced to what the race needs: a device
// matches the driver named for it, and the runtime callbacks are
// pm_generic_runtime_suspend and _resume (the driver's if it is bound and
// has one, success otherwise) inside the 2021 supplier accounting.
func scsiBus(c *rpmsuppliers.Core, drivers map[string]string) *bus.Bus {
	generic := func(pick func(*device.PMOps) func(*device.Device) error) func(*device.Device) error {
		return func(dev *device.Device) error {
			if drv, ok := dev.Driver().(*driver.Driver); ok && drv.PM != nil {
				if cb := pick(drv.PM); cb != nil {
					return cb(dev)
				}
			}
			return nil
		}
	}
	return &bus.Bus{
		Name:  "scsi",
		Match: func(dev *device.Device, drv *driver.Driver) bool { return drivers[dev.Name()] == drv.Name },
		PM: c.Callbacks(&device.PMOps{
			RuntimeSuspend: generic(func(o *device.PMOps) func(*device.Device) error { return o.RuntimeSuspend }),
			RuntimeResume:  generic(func(o *device.PMOps) func(*device.Device) error { return o.RuntimeResume }),
		}),
	}
}

// scsiAdd is the SCSI scan of one device, reduced: the device is added
// (bound if its driver is loaded), linked to its suppliers
// (ufshcd_setup_links, which the kernel calls from slave_configure,
// before device_add), and its runtime PM enabled and the device resumed
// and held (scsi_sysfs_add_sdev, scsi_autopm_get_device, both before
// device_add in the kernel). The scan drops the hold when it is done
// (scsi_autopm_put_device, pm.Put).
func scsiAdd(sys *drvsim.System, dev *device.Device, links ...*device.Device) {
	must(sys.RegisterDevice(dev))
	for _, sup := range links {
		_, err := sys.AddLink(dev, sup, device.LinkPMRuntime)
		must(err)
	}
	must(pm.Enable(dev))
	if err := pm.GetSync(dev); err != nil {
		panic(fmt.Sprintf("scsi_autopm_get_device %s: %v", dev.Name(), err))
	}
}

// sdDriver is sd reduced to its runtime PM: the probe resumes the disk,
// sets up autosuspend and puts it with the delay pending, as the commit's
// "probe callback can have runtime resumed dev, and then runtime put so
// dev is awaiting autosuspend".
func sdDriver() *driver.Driver {
	return &driver.Driver{Name: "sd", Bus: "scsi", Probe: func(dev *device.Device) error {
		if err := pm.GetSync(dev); err != nil {
			_ = pm.PutNoidle(dev)
			return err
		}
		must(pm.SetAutosuspendDelay(dev, diskAutosuspend))
		must(pm.UseAutosuspend(dev))
		return pm.PutAutosuspend(dev)
	}}
}

// diskRead is a read of the disk: sd holds it active while the request
// runs, and the request goes through the UFS device, which must be
// powered (CheckSuppliers reports it otherwise, and under the simulator
// the run ends there).
func diskRead(disk *device.Device) error {
	if err := pm.GetSync(disk); err != nil {
		_ = pm.PutNoidle(disk)
		return err
	}
	err := rpmsuppliers.CheckSuppliers(disk)
	_ = pm.PutAutosuspend(disk)
	return err
}

// rpmSuppliersRun is one run: the UFS device W-LU bound to its driver,
// the disk scanned (a DL_FLAG_PM_RUNTIME link to the W-LU, runtime PM
// on) but not bound, and the scan's hold dropped, which queues the disk's
// runtime suspend on pm_wq. Task "modprobe" registers sd, which probes
// the disk; task "read" reads the disk 10 ms after it is bound. At the
// end, once the disk has autosuspended, the disk and the W-LU must be
// suspended, their usage counts zero and the link's count one.
func rpmSuppliersRun(s *sim.Sim, sys *drvsim.System, fixed bool) {
	v := rpmsuppliers.Before
	if fixed {
		v = rpmsuppliers.After
	}
	c, err := rpmsuppliers.Install(sys, v)
	must(err)
	must(sys.RegisterBus(scsiBus(c, map[string]string{wlunName: "ufs_device_wlun", diskLUN: "sd"})))
	must(sys.RegisterDriver(&driver.Driver{Name: "ufs_device_wlun", Bus: "scsi", Probe: func(*device.Device) error { return nil }}))
	wlun := device.New(wlunName, device.WithBus(sys.Bus("scsi")), device.WithRelease(func(*device.Device) {}))
	scsiAdd(sys, wlun)
	disk := device.New(diskLUN, device.WithBus(sys.Bus("scsi")), device.WithRelease(func(*device.Device) {}))
	scsiAdd(sys, disk, wlun)
	must(pm.Put(wlun))
	must(pm.Put(disk)) // the scan is done: pm_wq's idle check will suspend the disk

	s.Go("udev", func() {
		must(sys.RegisterDriver(sdDriver())) // modprobe sd, for the disk's uevent
		sys.Env().Sleep(diskReadAfter)
		must(diskRead(disk)) // blkid reads the disk
	})
	s.AddLeakCheck("runtime PM at the end", func() []string {
		var bad []string
		for _, d := range []*device.Device{disk, wlun} {
			if st, _ := pm.StateOf(d); st.Status != pm.Suspended || st.Usage != 0 {
				bad = append(bad, d.Name()+": "+st.String())
			}
		}
		for _, l := range disk.Suppliers() {
			if n := c.RPMActive(l); n != 1 {
				bad = append(bad, fmt.Sprintf("link %s -> %s: rpm_active %d", diskLUN, l.Supplier.Name(), n))
			}
		}
		return bad
	})
}
