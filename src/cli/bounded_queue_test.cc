#include "cli/bounded_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace paperboy::cli {
namespace {

TEST(BoundedQueue, DeliversEveryItemInOrderAcrossThreads) {
  BoundedQueue<int> queue(3);
  std::jthread producer([&] {
    for (int i = 0; i < 10000; ++i) ASSERT_TRUE(queue.push(i));
    queue.close();
  });
  std::vector<int> received;
  while (auto item = queue.pop()) received.push_back(*item);
  ASSERT_EQ(received.size(), 10000u);
  for (int i = 0; i < 10000; ++i) ASSERT_EQ(received[static_cast<size_t>(i)], i);
}

TEST(BoundedQueue, ProducerWaitsWhileFull) {
  BoundedQueue<int> queue(2);
  std::atomic<int> pushed = 0;
  std::jthread producer([&] {
    for (int i = 0; i < 3; ++i) {
      queue.push(i);
      ++pushed;
    }
  });
  // The third push cannot finish until the consumer takes an item.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(pushed.load(), 2);
  EXPECT_EQ(queue.pop(), 0);
  producer.join();
  EXPECT_EQ(pushed.load(), 3);
  EXPECT_EQ(queue.pop(), 1);
  EXPECT_EQ(queue.pop(), 2);
}

TEST(BoundedQueue, CloseDrainsQueuedItemsThenEnds) {
  BoundedQueue<int> queue(4);
  ASSERT_TRUE(queue.push(1));
  ASSERT_TRUE(queue.push(2));
  queue.close();
  EXPECT_FALSE(queue.push(3)) << "a closed queue takes nothing more";
  EXPECT_EQ(queue.pop(), 1);
  EXPECT_EQ(queue.pop(), 2);
  EXPECT_EQ(queue.pop(), std::nullopt);
}

TEST(BoundedQueue, ConsumerCloseReleasesABlockedProducer) {
  BoundedQueue<int> queue(1);
  ASSERT_TRUE(queue.push(1));
  bool accepted = true;
  std::jthread producer([&] { accepted = queue.push(2); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  queue.close();
  producer.join();
  EXPECT_FALSE(accepted);
}

TEST(BoundedQueue, ConsumerWaitsForAnItem) {
  BoundedQueue<int> queue(1);
  std::jthread producer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    queue.push(7);
  });
  EXPECT_EQ(queue.pop(), 7);
}

}  // namespace
}  // namespace paperboy::cli
