#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <jpeglib.h>
/* Compresses a gradient to JPEG in memory and decompresses it, in two threads; prints sizes and a checksum. */
static void *roundtrip(void *arg) {
  int w = 64, h = 48, q = (int)(long)arg;
  unsigned char *pixels = malloc(w * h * 3);
  for (int i = 0; i < w * h * 3; i++) pixels[i] = (unsigned char)(i * 7 + q);
  struct jpeg_compress_struct c; struct jpeg_error_mgr e;
  c.err = jpeg_std_error(&e); jpeg_create_compress(&c);
  unsigned char *out = NULL; unsigned long size = 0;
  jpeg_mem_dest(&c, &out, &size);
  c.image_width = w; c.image_height = h; c.input_components = 3; c.in_color_space = JCS_RGB;
  jpeg_set_defaults(&c); jpeg_set_quality(&c, q, TRUE); jpeg_start_compress(&c, TRUE);
  while (c.next_scanline < c.image_height) { JSAMPROW row = pixels + c.next_scanline * w * 3; jpeg_write_scanlines(&c, &row, 1); }
  jpeg_finish_compress(&c); jpeg_destroy_compress(&c);
  struct jpeg_decompress_struct d; d.err = jpeg_std_error(&e); jpeg_create_decompress(&d);
  jpeg_mem_src(&d, out, size); jpeg_read_header(&d, TRUE); jpeg_start_decompress(&d);
  unsigned long sum = 0; unsigned char *line = malloc(d.output_width * d.output_components);
  while (d.output_scanline < d.output_height) { jpeg_read_scanlines(&d, &line, 1); for (unsigned i = 0; i < d.output_width * d.output_components; i++) sum += line[i]; }
  jpeg_finish_decompress(&d); jpeg_destroy_decompress(&d);
  printf("quality %d: %lu bytes, %ux%u, checksum %lu\n", q, size, d.output_width, d.output_height, sum);
  free(out); free(line); free(pixels); return NULL;
}
int main(void) {
  roundtrip((void *)75L);
  pthread_t t; pthread_create(&t, NULL, roundtrip, (void *)90L); pthread_join(t, NULL);
  return 0;
}
