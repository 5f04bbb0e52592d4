package usbsim

import (
	"fmt"
	"strings"
	"sync"

	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/kernel"
)

// The USB major (drivers/usb/core/file.c, include/linux/usb.h).
const (
	// Major is USB_MAJOR: the character major the USB core owns for the
	// interface drivers that have no class of their own (usb-skeleton,
	// usblp, ...).
	Major = 180
	// MaxMinors is MAX_USB_MINORS: the minors of that major.
	MaxMinors = 256
	// ClassName is the name of the class of their devices
	// (/sys/class/usbmisc).
	ClassName = "usbmisc"
)

// FaultRegisterDev is the fault point consulted (under a scheduler) by
// RegisterDev: sim fault rules on it make usb_register_dev fail.
const FaultRegisterDev = "usb_register_dev"

// ClassDriver is struct usb_class_driver: how an interface driver wants
// its minors. Fops are the file operations of its files (the USB core's
// usb_open installs them and calls their Open).
type ClassDriver struct {
	// Name is the node name's pattern, with %d replaced by the minor's
	// offset from MinorBase ("skel%d" gives skel0); only the part after
	// the last '/' names the class device.
	Name string
	// Fops are the driver's file operations; RegisterDev refuses nil.
	Fops *chardev.FileOperations
	// MinorBase is the first minor to try (minor_base).
	MinorBase int
	// Devnode, when set, names the /dev node of a class device
	// (usb_class_driver.devnode): usblp and hiddev return "usb/" + the
	// device's name. Without it the node is /dev/<name>.
	Devnode func(dev *device.Device) string
}

// files is the USB core's part of file.c: the minor table, its rwsem, and
// the usbmisc class, created at the first usb_register_dev and destroyed
// at the last usb_deregister_dev (init_usb_class, destroy_usb_class).
type files struct {
	rwsem *kernel.Mutex // minor_rwsem

	mu        sync.Mutex
	minors    [MaxMinors]*chardev.FileOperations
	class     *chardev.Class
	classRefs int
}

// majorInit is usb_major_init: register_chrdev(USB_MAJOR, "usb",
// &usb_fops), whose open is usb_open.
func (u *USB) majorInit() error {
	u.files.rwsem = kernel.NewQuietMutex(u.core, "minor_rwsem")
	_, err := chardev.RegisterChrdev(u.core, Major, "usb", &chardev.FileOperations{Open: u.open})
	if err != nil {
		return fmt.Errorf("usb_major_init: unable to get major %d for usb devices: %w", Major, err)
	}
	return nil
}

// open is usb_open: under minor_rwsem (read), the minor's file operations
// are installed on the file and their open runs; a free minor is -ENODEV.
func (u *USB) open(f *chardev.File) error {
	fs := &u.files
	fs.rwsem.Lock()
	defer fs.rwsem.Unlock()
	minor := f.Minor()
	fs.mu.Lock()
	var fops *chardev.FileOperations
	if minor < MaxMinors {
		fops = fs.minors[minor]
	}
	fs.mu.Unlock()
	if fops == nil {
		return fmt.Errorf("usb_open minor %d: %w", minor, ErrNoDevice)
	}
	f.ReplaceFops(fops)
	if fops.Open == nil {
		// "Curiouser and curiouser... NULL ->open() as 'no device'?"
		return fmt.Errorf("usb_open minor %d: driver has no open: %w", minor, ErrNoDevice)
	}
	return fops.Open(f)
}

// usbDevnode is usb_devnode: the class driver's devnode, if any.
func usbDevnode(dev *device.Device) string {
	if cd, ok := dev.Drvdata().(*ClassDriver); ok && cd.Devnode != nil {
		return cd.Devnode(dev)
	}
	return ""
}

// getClass is init_usb_class: the usbmisc class, created on first use.
func (u *USB) getClass() (*chardev.Class, error) {
	fs := &u.files
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.class == nil {
		c, err := chardev.CreateClass(u.core, ClassName, chardev.WithDevnode(usbDevnode))
		if err != nil {
			return nil, err
		}
		fs.class = c
	}
	fs.classRefs++
	return fs.class, nil
}

// putClass is destroy_usb_class: the last reference destroys the class.
func (u *USB) putClass() {
	fs := &u.files
	fs.mu.Lock()
	fs.classRefs--
	var c *chardev.Class
	if fs.classRefs == 0 {
		c, fs.class = fs.class, nil
	}
	fs.mu.Unlock()
	if c != nil {
		_ = c.Destroy()
	}
}

// RegisterDev is usb_register_dev: the first free minor from
// cd.MinorBase gets cd's file operations (under minor_rwsem), the
// interface records it (Interface.Minor), and a device of the usbmisc
// class named after cd.Name is created below the interface with number
// USB_MAJOR:minor, so that its /dev node appears last: the driver calls
// this at the end of its probe. It fails with ErrInvalid without file
// operations, ErrAddrInUse when the interface has a minor already,
// ErrExFull when no minor is free, with device_create's error (the minor
// is given back), and with the injected error of FaultRegisterDev.
func (u *USB) RegisterDev(intf *Interface, cd *ClassDriver) error {
	if intf == nil || cd == nil || cd.Fops == nil {
		return fmt.Errorf("usb_register_dev: no interface, class driver or fops: %w", ErrInvalid)
	}
	if err := u.Env().Fault(FaultRegisterDev); err != nil {
		u.emit(KindFile, intf.Path(), "usb_register_dev", "injected fault: "+err.Error())
		return fmt.Errorf("usb_register_dev %s: %w", intf.Name(), err)
	}
	if intf.Minor() >= 0 {
		return fmt.Errorf("usb_register_dev %s: minor %d registered already: %w", intf.Name(), intf.Minor(), ErrAddrInUse)
	}
	class, err := u.getClass()
	if err != nil {
		return fmt.Errorf("usb_register_dev %s: %w", intf.Name(), err)
	}
	fs := &u.files
	fs.rwsem.Lock()
	minor := -1
	fs.mu.Lock()
	for m := max(cd.MinorBase, 0); m < MaxMinors; m++ {
		if fs.minors[m] == nil {
			fs.minors[m] = cd.Fops
			minor = m
			break
		}
	}
	fs.mu.Unlock()
	if minor >= 0 {
		intf.setMinor(minor)
	}
	fs.rwsem.Unlock()
	if minor < 0 {
		u.putClass()
		u.emit(KindFile, intf.Path(), "usb_register_dev", cd.Name+": no free minor: -EXFULL")
		return fmt.Errorf("usb_register_dev %s: %w", intf.Name(), ErrExFull)
	}
	name := fmt.Sprintf(cd.Name, minor-cd.MinorBase)
	if i := strings.LastIndexByte(name, '/'); i >= 0 && i+1 < len(name) {
		name = name[i+1:]
	}
	cdev, err := class.CreateDevice(intf.Dev(), device.MkDev(Major, uint32(minor)), cd, "%s", name)
	if err != nil {
		fs.rwsem.Lock()
		fs.mu.Lock()
		fs.minors[minor] = nil
		fs.mu.Unlock()
		intf.setMinor(-1)
		fs.rwsem.Unlock()
		u.putClass()
		u.emit(KindFile, intf.Path(), "usb_register_dev", fmt.Sprintf("%s: device_create: %s", name, Errno(err)))
		return fmt.Errorf("usb_register_dev %s: %w", intf.Name(), err)
	}
	u.mu.Lock()
	intf.usbDev = cdev
	u.mu.Unlock()
	u.emit(KindFile, intf.Path(), "usb_register_dev", fmt.Sprintf("%s: minor %d", name, minor))
	return nil
}

// DeregisterDev is usb_deregister_dev: the interface's minor is freed
// (opens of it fail with -ENODEV from now on), its class device destroyed
// (the /dev node goes) and the class reference dropped. Files already
// open keep their operations. An interface without a minor is left alone.
func (u *USB) DeregisterDev(intf *Interface, cd *ClassDriver) {
	minor := intf.Minor()
	if minor < 0 {
		return
	}
	fs := &u.files
	fs.rwsem.Lock()
	fs.mu.Lock()
	fs.minors[minor] = nil
	class := fs.class
	fs.mu.Unlock()
	fs.rwsem.Unlock()
	name := ""
	u.mu.Lock()
	if intf.usbDev != nil {
		name = intf.usbDev.Name()
	}
	u.mu.Unlock()
	u.emit(KindFile, intf.Path(), "usb_deregister_dev", fmt.Sprintf("%s: minor %d", name, minor))
	if class != nil {
		class.DestroyDevice(device.MkDev(Major, uint32(minor)))
	}
	u.mu.Lock()
	intf.usbDev = nil
	u.mu.Unlock()
	intf.setMinor(-1)
	u.putClass()
}

// FindInterface is usb_find_interface: the interface bound to drv whose
// minor is minor, or nil (what a driver's open looks its device up with).
func (u *USB) FindInterface(drv *Driver, minor int) *Interface {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, intf := range u.intfs {
		if intf.minor == minor && intf.minor >= 0 && intf.driver == drv {
			return intf
		}
	}
	return nil
}

// MinorTaken reports whether minor of the USB major is registered
// (usb_minors[minor] != NULL).
func (u *USB) MinorTaken(minor int) bool {
	if minor < 0 || minor >= MaxMinors {
		return false
	}
	u.files.mu.Lock()
	defer u.files.mu.Unlock()
	return u.files.minors[minor] != nil
}

// Class returns the usbmisc class while a driver has a minor registered,
// else nil.
func (u *USB) Class() *chardev.Class {
	u.files.mu.Lock()
	defer u.files.mu.Unlock()
	return u.files.class
}
