#include <snn/snn.h>

#include <iostream>

int main() {
  snn::LIF lif(snn::LIFOptions(10.0));
  const auto spikes = lif->forward(at::full({2, 5, 3}, 0.5));
  std::cout << "consumer: snn " << snn::version() << " spikes=" << spikes.sum().item<double>()
            << "\n";
  return 0;
}
