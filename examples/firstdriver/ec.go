package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/driver"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/revocable"
)

// ecFirmware is the firmware the driver knows how to talk to.
const ecFirmware = "ec-2.1"

// ecTimeout bounds the wait for the EC's answer to a command.
const ecTimeout = 100 * time.Millisecond

// ecModule is what the module's init sets up: the device number of
// /dev/ec0, the "ec" device class, and the platform driver.
type ecModule struct {
	devt  device.DevT
	class *chardev.Class
	drv   *driver.Driver
}

// ecInit is the module's init (module_init). It reserves a device number
// (alloc_chrdev_region), creates the class (class_create) and registers
// the driver (platform_driver_register), which from then on probes every
// platform device named "ec" or "ec.N".
func ecInit(sys *drvsim.System) (*ecModule, error) {
	m := &ecModule{}
	var err error
	if m.devt, err = chardev.AllocRegion(sys, 0, 1, "ec"); err != nil {
		return nil, err
	}
	if m.class, err = chardev.CreateClass(sys, "ec"); err != nil {
		chardev.UnregisterRegion(sys, m.devt, 1)
		return nil, err
	}
	m.drv = platform.NewDriver("ec", m.probe, nil) // no remove: devres undoes probe
	if err := sys.RegisterDriver(m.drv); err != nil {
		_ = m.class.Destroy()
		chardev.UnregisterRegion(sys, m.devt, 1)
		return nil, err
	}
	return m, nil
}

// exit is the module's exit (module_exit): init undone, newest first.
// Unregistering the driver unbinds its devices.
func (m *ecModule) exit(sys *drvsim.System) error {
	if err := sys.UnregisterDriver(m.drv); err != nil {
		return err
	}
	if err := m.class.Destroy(); err != nil {
		return err
	}
	chardev.UnregisterRegion(sys, m.devt, 1)
	return nil
}

// ec is the driver's state for one EC, what a C driver allocates in
// probe.
type ec struct {
	dev  *device.Device
	chip *ecChip            // the hardware behind the register window
	regs *env.Object        // the mapped registers: every access is checked
	lock *kernel.Mutex      // one command at a time
	done *kernel.Completion // completed by the interrupt handler
}

// probe binds the driver to an EC: it takes the hardware, hands the EC to
// a revocable provider, and publishes /dev/ec0. Each step is a devm call,
// or is followed at once by the devres action that undoes it: a probe
// that fails midway, and the unbind, run those actions newest first.
func (m *ecModule) probe(pdev *device.Device) error {
	e, err := ecSetup(pdev)
	if err != nil {
		return err
	}
	p, err := revocable.DevmProvider(pdev, e, revocable.WithName(pdev.Name()))
	if err != nil {
		return err
	}
	return m.addCdev(pdev, ecFileOps(p))
}

// ecSetup takes the EC's hardware: it maps the registers
// (devm_ioremap_resource), checks the firmware, and requests the
// interrupt (devm_request_irq).
func ecSetup(pdev *device.Device) (*ec, error) {
	pdata, ok := pdev.PlatformData().(*ecPlatformData) // dev_get_platdata
	if !ok {
		return nil, fmt.Errorf("%s: no platform data: %w", pdev.Name(), device.ErrInvalid)
	}
	e := &ec{dev: pdev, chip: pdata.Chip,
		lock: kernel.NewMutex(pdev, "ec lock"), done: kernel.NewCompletion(pdev, "ec done")}
	e.regs = pdev.Env().Memory().Alloc(pdev.Name() + " registers")
	if _, err := pdev.Devres().AddOrReset("iounmap", e.regs.Free); err != nil {
		return nil, err
	}
	if fw := e.readl("VERSION"); fw != ecFirmware {
		return nil, fmt.Errorf("%s: firmware %q, not %q: %w", pdev.Name(), fw, ecFirmware, device.ErrNoDevice)
	}
	if err := kernel.DevmRequestIRQ(pdev, pdata.IRQ, ecInterrupt, 0, "ec", e); err != nil {
		return nil, err
	}
	pdev.SetDrvdata(e)
	kernel.DevInfo(pdev, "firmware %s, irq %d", ecFirmware, pdata.IRQ)
	return e, nil
}

// readl reads one of the EC's registers (readl(ec->regs + reg)).
func (e *ec) readl(reg string) string {
	e.regs.Access("readl " + reg)
	return e.chip.read(reg)
}

// writel writes one of the EC's registers (writel(val, ec->regs + reg)).
func (e *ec) writel(reg, val string) {
	e.regs.Access("writel " + reg)
	e.chip.write(reg, val)
}

// ecInterrupt is the EC's interrupt handler (irq_handler_t). It runs in
// hard interrupt context, where nothing may sleep: it acknowledges the
// interrupt and completes the command's completion.
func ecInterrupt(irq int, devID any) kernel.IRQReturn {
	e := devID.(*ec)
	if e.readl("STATUS") != "DONE" {
		return kernel.IRQNone // not ours
	}
	e.done.Complete()
	return kernel.IRQHandled
}

// command sends cmd to the EC and returns its answer: write the command,
// sleep until the interrupt says the answer is in, read it.
func (e *ec) command(cmd string) (string, error) {
	e.lock.Lock()
	defer e.lock.Unlock()
	e.done.Reinit()
	e.writel("CMD", cmd)
	if !e.done.WaitTimeout(ecTimeout) {
		return "", fmt.Errorf("%s: %s: %w", e.dev.Name(), cmd, device.ErrTimedOut)
	}
	return e.readl("DATA"), nil
}

// addCdev publishes the EC to user space: a character device with fops on
// the module's number (cdev_alloc, cdev_add), then a device of the class,
// for which devtmpfs creates /dev/ec0 (device_create). devres undoes
// both, the node first.
func (m *ecModule) addCdev(pdev *device.Device, fops *chardev.FileOperations) error {
	cdev := chardev.CdevAlloc(pdev, fops)
	if err := cdev.Add(m.devt, 1); err != nil {
		cdev.Del() // the last reference: the cdev is freed
		return err
	}
	if _, err := pdev.Devres().AddOrReset("cdev_del", cdev.Del); err != nil {
		return err
	}
	if _, err := m.class.CreateDevice(pdev, m.devt, nil, "ec%d", 0); err != nil {
		return err
	}
	_, err := pdev.Devres().AddOrReset("device_destroy", func() { m.class.DestroyDevice(m.devt) })
	return err
}

// ecFileOps are the file operations of /dev/ec0 (struct file_operations).
// A file reaches the EC only through the provider p: open takes a
// consumer of it, read enters it for one command, release drops it.
func ecFileOps(p *revocable.Provider[ec]) *chardev.FileOperations {
	return &chardev.FileOperations{
		Open: func(f *chardev.File) error {
			c, err := revocable.New(p)
			if err != nil {
				return fmt.Errorf("ec_open: %w", chardev.ErrNoDevice)
			}
			f.Private = c
			return nil
		},
		Read: ecRead,
		Release: func(f *chardev.File) error {
			return f.Private.(*revocable.Consumer[ec]).Close()
		},
	}
}

// ecRead is read(2) on /dev/ec0: the EC's temperature, or -ENODEV once
// the EC is gone.
func ecRead(f *chardev.File, n int) ([]byte, error) {
	c := f.Private.(*revocable.Consumer[ec])
	var answer string
	err := c.OrReturn(func(e *ec) error { // the EC stays until this returns
		var err error
		answer, err = e.command("TEMP")
		return err
	})
	if errors.Is(err, revocable.ErrRevoked) {
		return nil, fmt.Errorf("ec_read: %w", chardev.ErrNoDevice)
	}
	if err != nil {
		return nil, err
	}
	out := []byte(answer + "\n")
	return out[:min(n, len(out))], nil
}
