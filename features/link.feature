Feature: An unreliable BLE link loses no alert
  Presses made while the link is down are kept by the button and delivered when it
  comes back, exactly once; loss only delays; long outages warn the wearer.

  Background:
    Given a button paired with a phone
    And the phone has 3 emergency contacts
    And the phone is at 48.8566, 2.3522

  Scenario: A press during a short outage is delivered after it
    When the BLE link is lost for 20 s
    And the wearer presses the button
    And 10 seconds pass
    Then no SMS is sent
    And within 30 s every contact receives an SMS
    When 5 minutes pass
    Then exactly 3 SMS are sent
    And the phone has rejected 0 events

  Scenario: A 15-minute outage: the alert goes out late, says so, and the wearer was warned
    When the BLE link is lost for 900 s
    And the wearer presses the button
    Then within 120 s the phone warns the wearer that the button is disconnected
    And no SMS is sent
    When 15 minutes pass
    Then within 30 s 3 contacts receive an SMS containing "sent late"
    And exactly 3 SMS are sent

  Scenario Outline: Packet loss delays but never loses or duplicates
    Given the BLE link loses <loss>% of packets
    When the wearer presses the button
    Then within 30 s every contact receives an SMS
    When the wearer double-presses the button
    Then within 30 s 3 contacts receive an SMS containing "Join the conference"
    When 10 minutes pass
    Then exactly 6 SMS are sent
    And contact "Contact 2" has been called 1 times
    And the phone has rejected 0 events

    Examples:
      | loss |
      | 10   |
      | 30   |
      | 50   |

  Scenario: Far from the phone the link is lost, and comes back closer
    Given the button is 300 m from the phone
    When the wearer presses the button
    Then within 70 s the phone warns the wearer that the button is disconnected
    And no SMS is sent
    Given the button is 5 m from the phone
    When 30 seconds pass
    Then every contact receives an SMS

  Scenario: Bluetooth off on the phone, then on again
    When Bluetooth is turned off on the phone
    And the wearer presses the button
    And 2 minutes pass
    Then no SMS is sent
    And the phone warns the wearer that the button is disconnected
    When Bluetooth is turned on on the phone
    Then within 10 s every contact receives an SMS
    And exactly 3 SMS are sent

  Scenario: Several presses during an outage each raise their alert once
    When the BLE link is lost for 120 s
    And the wearer presses the button
    And 5 seconds pass
    And the wearer double-presses the button
    And 3 minutes pass
    Then exactly 6 SMS are sent
    And contact "Contact 1" has been called 1 times
