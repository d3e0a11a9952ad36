int weak_data = 20;
extern int weak_data_kept;

int overridden(void) { return 2; }
int defined_elsewhere(void) { return 77; }
int strong_reads_weak(void) { return weak_data + weak_data_kept; }
