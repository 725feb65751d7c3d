// zlib (gzip files) for the event server's compression of closed event files.
#include <zlib.h>
