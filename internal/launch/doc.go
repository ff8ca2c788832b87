// Package launch supervises the daemons `make run` starts on one machine:
// it starts each as a child process with its own log file, waits for it to
// listen, and stops every process it started, by PID, when asked or when it
// dies. It knows the daemons only as argv; what to start is decided by
// cmd/hcnet.
package launch
