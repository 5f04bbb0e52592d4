package kernel

import (
	"fmt"
	"strings"

	"github.com/drvsim/drvsim/trace"
)

// The dev_printk family (include/linux/dev_printk.h): a line of the
// machine's log about a device, recorded in its trace as a KindPrintk
// event whose Func is the level's function (dev_err, dev_warn, dev_info,
// dev_dbg) and whose Dev is the device's path, formatted like fmt.Sprintf
// (a trailing newline, which kernel format strings carry, is dropped).
// dev_warn is only a message: it is not a WARN splat (misuse the kernel
// WARNs about is a trace.Warn event or an env.Report). dev_dbg lines are
// recorded too, as with dynamic debug enabled for every call site. A nil
// dev panics: there is no machine to log to.

// DevErr is dev_err: an error about dev.
func DevErr(dev Device, format string, args ...any) { devPrintk("dev_err", dev, format, args) }

// DevWarn is dev_warn: a warning about dev (no WARN splat).
func DevWarn(dev Device, format string, args ...any) { devPrintk("dev_warn", dev, format, args) }

// DevNotice is dev_notice: a normal but significant condition of dev.
func DevNotice(dev Device, format string, args ...any) { devPrintk("dev_notice", dev, format, args) }

// DevInfo is dev_info: information about dev.
func DevInfo(dev Device, format string, args ...any) { devPrintk("dev_info", dev, format, args) }

// DevDbg is dev_dbg: a debug message about dev.
func DevDbg(dev Device, format string, args ...any) { devPrintk("dev_dbg", dev, format, args) }

// maxPrintk bounds one message, as the kernel's LOG_LINE_MAX
// (1024 - 32 bytes) does; longer ones are cut.
const maxPrintk = 992

func devPrintk(fn string, dev Device, format string, args []any) {
	if isNil(dev) {
		panic("kernel: " + fn + " with a nil device")
	}
	msg := strings.TrimSuffix(fmt.Sprintf(format, args...), "\n")
	if len(msg) > maxPrintk {
		msg = msg[:maxPrintk]
	}
	dev.Env().Log().Emit(trace.Event{Kind: KindPrintk, Dev: dev.Path(), Func: fn, Msg: msg})
}
