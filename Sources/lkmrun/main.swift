// lkmrun: links relocatable objects into this process and runs them (LkmRunner). This
// executable links libstdc++ statically for the Swift runtime, so that a start loads no
// libstdc++.so.6; a run with -l stdc++ is handed over to lkmrun-cxx.
import LkmRunner

LkmRun.main(.lkmrun)
