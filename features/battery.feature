Feature: Button battery
  The button reports its Battery Level (0x2A19) and queues a low-battery event at 20 %
  and at 10 %; the phone warns the wearer. A coin cell near its end browns out under
  the vibration motor: the button disappears and the disconnect warning covers it.

  Background:
    Given a button paired with a phone
    And the phone has 2 emergency contacts

  Scenario: A warning at 20 %
    Given the button battery is at 21%
    When 10 days pass
    Then the phone warns the wearer that the button battery is low
    And no alert is raised

  Scenario: A warning at 10 %
    Given the button battery is at 10.5%
    When 5 days pass
    Then the phone warns the wearer that the button battery is low
    And no alert is raised

  Scenario: A weak cell browns out under the vibration, and the wearer is warned
    Given the button battery is at 8%
    When the wearer presses the button
    Then within 5 s every contact receives an SMS
    And within 5 s the button vibrates the "sent" pattern
    And within 90 s the phone warns the wearer that the button is disconnected

  Scenario: A full battery stays silent for a day
    Given the button battery is at 100%
    When 1 days pass
    Then no alert is raised
    And the phone has rejected 0 events

  Scenario: A month of idle keeps the button connected and working
    When 30 days pass
    And the wearer presses the button
    Then within 5 s every contact receives an SMS
