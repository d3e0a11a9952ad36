// A default-PIE C++ program that names stdout (lkmrun's copy, low) and libstdc++'s iostreams
// and locale data PC-relatively: every one must be within reach of the module.
#include <cstdio>
#include <iostream>
#include <locale>
#include <sstream>
#include <stdexcept>
#include <string>

int main() {
  std::printf("stdio first\n");
  std::fflush(stdout);
  std::ostringstream s;
  s << "x=" << 42 << ' ' << 3.5;
  std::cout << "iostream " << s.str() << std::endl;
  const auto &facet = std::use_facet<std::numpunct<char>>(std::locale::classic());
  std::cout << "decimal point '" << facet.decimal_point() << "'" << std::endl;
  std::cerr.flush();
  try {
    throw std::runtime_error("thrown");
  } catch (const std::exception &e) {
    std::fprintf(stdout, "caught %s\n", e.what());
  }
  std::fprintf(stdout, "stdio again\n");
  return 0;
}
