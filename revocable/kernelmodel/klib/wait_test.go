package klib_test

import "github.com/drvsim/drvsim/sched"

func schedWait(what string) sched.Wait { return sched.Wait{What: what} }
